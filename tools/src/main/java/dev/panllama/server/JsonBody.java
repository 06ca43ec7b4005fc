package dev.panllama.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request body parsed as one JSON value, refused (400) with a message in our own words: what is wrong
 * and where, as {@code invalid JSON at line 1, column 17: unexpected character '}'}. Jackson's messages
 * are not passed on: they name its classes and features ({@code StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION},
 * {@code (code 125)}, {@code [Source: REDACTED ...]}), which mean nothing to a client. Only the error's kind
 * and location are taken from Jackson; the line and column are counted here, in characters, from its
 * byte offset (Jackson's column counts bytes).
 */
final class JsonBody {
    /** Jackson names the token it could not read; the name is the useful part of its message. */
    private static final Pattern TOKEN = Pattern.compile("^(?:Unrecognized|Non-standard) token '([^']{1,40})'");
    private static final Pattern DUPLICATE = Pattern.compile("^Duplicate field '(.{1,80})'$");

    /** Trailing content is checked here, to be told apart from an error inside the value. */
    private static final ObjectReader READER = HttpIo.JSON.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonBody() {}

    static JsonNode parse(byte[] body) {
        try (JsonParser p = HttpIo.JSON.createParser(body)) {
            JsonNode value;
            try {
                value = READER.readTree(p);
            } catch (JsonProcessingException e) {
                throw refusal(body, p, e);
            }
            if (value == null || value.isMissingNode()) throw invalid(body, body.length, "unexpected end of input");
            // Anything but whitespace after the value is an error (a second value, or garbage).
            long after;
            try {
                if (p.nextToken() == null) return value;
                after = p.currentTokenLocation().getByteOffset();
            } catch (JsonProcessingException e) {
                after = e.getLocation() != null ? e.getLocation().getByteOffset() : p.currentTokenLocation().getByteOffset();
            }
            throw invalid(body, after, "unexpected text after the JSON value");
        } catch (IOException e) {
            // Not a JSON error (those are handled above): a byte array cannot fail to be read, so this is ours.
            throw new UncheckedIOException(e);
        }
    }

    private static ApiException refusal(byte[] body, JsonParser p, JsonProcessingException e) {
        String jackson = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        long offset = byteOffset(e.getLocation(), p.currentLocation());

        int malformed = firstMalformedUtf8(body);
        if (malformed >= 0 && malformed <= offset) {
            return invalid(body, malformed, String.format(Locale.ROOT, "byte 0x%02x is not valid UTF-8", body[malformed] & 0xff));
        }
        if (e instanceof StreamConstraintsException) {
            var limits = p.streamReadConstraints();
            if (jackson.startsWith("Document nesting depth")) {
                // The location is past the bracket that went too deep; the token's is that bracket's.
                return invalid(body, p.currentTokenLocation().getByteOffset(), "nested deeper than " + limits.getMaxNestingDepth() + " levels");
            }
            if (jackson.startsWith("Number value length")) return invalid(body, offset, "a number longer than " + limits.getMaxNumberLength() + " digits");
            if (jackson.startsWith("String value length")) return invalid(body, offset, "a string longer than " + limits.getMaxStringLength() + " characters");
            if (jackson.startsWith("Name length")) return invalid(body, offset, "a field name longer than " + limits.getMaxNameLength() + " bytes");
            return invalid(body, offset, "a value beyond the parser's limits");
        }
        if (offset >= body.length) return invalid(body, body.length, "unexpected end of input");
        Matcher duplicate = DUPLICATE.matcher(jackson);
        if (duplicate.matches()) return invalid(body, offset, "duplicate field '" + duplicate.group(1) + "'");
        Matcher token = TOKEN.matcher(jackson);
        if (token.find()) {
            // Jackson points at an unrecognized token's start, but past a non-standard one (NaN, Infinity).
            byte[] text = token.group(1).getBytes(StandardCharsets.UTF_8);
            long start = startsAt(body, offset, text) ? offset : startsAt(body, offset - text.length, text) ? offset - text.length : offset;
            return invalid(body, start, "unexpected token '" + token.group(1) + "'");
        }
        return invalid(body, offset, "unexpected character " + character(body, (int) offset));
    }

    private static long byteOffset(JsonLocation thrown, JsonLocation current) {
        JsonLocation at = thrown != null && thrown.getByteOffset() >= 0 ? thrown : current;
        return Math.max(0, at.getByteOffset());
    }

    private static ApiException invalid(byte[] body, long offset, String what) {
        return ApiException.invalid("invalid JSON at " + position(body, (int) Math.min(Math.max(offset, 0), body.length)) + ": " + what, null);
    }

    /** "line L, column C" of a byte offset: lines split at '\n', columns count characters (not UTF-8 continuation bytes). */
    static String position(byte[] body, int offset) {
        int line = 1, column = 1;
        for (int i = 0; i < offset; i++) {
            byte b = body[i];
            if (b == '\n') {
                line++;
                column = 1;
            } else if ((b & 0xC0) != 0x80) {
                column++;
            }
        }
        return "line " + line + ", column " + column;
    }

    /** The character at a byte offset: quoted when it prints (a single quote in double quotes), else as U+XXXX (a tab, a control). */
    private static String character(byte[] body, int offset) {
        int cp = new String(body, offset, Math.min(4, body.length - offset), StandardCharsets.UTF_8).codePointAt(0);
        boolean prints = !Character.isISOControl(cp) && (cp == ' ' || !Character.isWhitespace(cp)) && Character.isDefined(cp);
        if (!prints) return String.format(Locale.ROOT, "U+%04X", cp);
        return cp == '\'' ? "\"'\"" : "'" + Character.toString(cp) + "'";
    }

    private static boolean startsAt(byte[] body, long offset, byte[] text) {
        if (offset < 0 || offset + text.length > body.length) return false;
        for (int i = 0; i < text.length; i++) if (body[(int) offset + i] != text[i]) return false;
        return true;
    }

    /** The offset of the first byte that is not valid UTF-8, or -1. */
    private static int firstMalformedUtf8(byte[] body) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) return in.position();        // left at the start of the bad sequence
            if (r.isUnderflow()) return -1;
            out.clear();
        }
    }
}
