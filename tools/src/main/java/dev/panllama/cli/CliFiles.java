package dev.panllama.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checks of every file a command reads or writes, made before any work starts, so that a bad
 * path fails at once with one line that names the file and what is wrong with it.
 */
final class CliFiles {
    private CliFiles() {}

    /** The largest text input read whole (-f, --chat-template-file): more is not a prompt, and -f /dev/zero would never end. */
    static final int MAX_TEXT_BYTES = 1 << 30;

    /**
     * An input that is opened and mapped (a model, an imatrix): it must exist and be a regular file,
     * or a directory where {@code directoryAllowed} (a Hugging Face model); {@code what} it should be
     * names it in the message ("a GGUF file"). A FIFO would block the
     * open until something writes to it, and a device cannot be mapped.
     */
    static void requireInput(Path p, String what, boolean directoryAllowed) {
        if (!Files.exists(p)) throw new IllegalArgumentException(p + ": no such file");
        if (Files.isDirectory(p)) {
            if (directoryAllowed) return;
            throw new IllegalArgumentException(p + ": is a directory, not " + what);
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(p + ": not a regular file (a pipe, device or socket), so not " + what + " that can be mapped");
        }
    }

    /**
     * The bytes of a text input, read whole. Pipes are fine ({@code -f /dev/stdin}, {@code -f <(cmd)}):
     * only a directory, a missing file and more than {@link #MAX_TEXT_BYTES} are refused.
     */
    static byte[] readBytes(Path p) throws IOException {
        if (Files.isDirectory(p)) throw new IllegalArgumentException(p + ": is a directory, not a text file");
        byte[] bytes;
        try (InputStream in = Files.newInputStream(p)) {
            bytes = in.readNBytes(MAX_TEXT_BYTES + 1);
        }
        if (bytes.length > MAX_TEXT_BYTES) {
            throw new IllegalArgumentException(p + ": more than " + (MAX_TEXT_BYTES >> 20) + " MiB, too large to read as text");
        }
        return bytes;
    }

    /** A text input decoded as UTF-8; anything else is refused with the offset of its first bad byte. */
    static String readText(Path p) throws IOException {
        byte[] bytes = readBytes(p);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);     // UTF-8 never gives more chars than bytes
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) r = decoder.flush(out);
        if (r.isError()) throw new IllegalArgumentException(p + ": not UTF-8 text at byte " + in.position());
        return out.flip().toString();
    }

    /**
     * An output written to a temporary file in its directory, then renamed over it (the GGUF writers):
     * the rename would replace whatever is there, so only a regular file (or nothing) may be.
     */
    static void requireReplaceableOutput(Path out) {
        if (Files.exists(out) && !Files.isRegularFile(out)) {
            throw new IllegalArgumentException(out + ": " + (Files.isDirectory(out) ? "is a directory" : "not a regular file (a pipe, device or socket)")
                    + "; the output is written to a new file renamed over it, so give a file path");
        }
        requireWritableDirectory(out);
    }

    /**
     * An output written as a stream into the file itself ({@code logits -o}, the log-probability
     * file): pipes and devices work (-o /dev/null), a directory does not.
     */
    static void requireStreamOutput(Path out) {
        if (Files.isDirectory(out)) throw new IllegalArgumentException(out + ": is a directory; give a file path to write");
        if (Files.exists(out)) {
            if (!Files.isWritable(out)) throw new IllegalArgumentException(out + ": permission denied");
            return;
        }
        requireWritableDirectory(out);
    }

    private static void requireWritableDirectory(Path out) {
        Path dir = out.toAbsolutePath().getParent();
        if (dir == null) return;
        if (!Files.exists(dir)) throw new IllegalArgumentException(out + ": directory " + dir + " does not exist");
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(out + ": " + dir + " is not a directory");
        if (!Files.isWritable(dir)) throw new IllegalArgumentException(out + ": cannot create files in " + dir + " (permission denied)");
    }
}
