package dev.panllama.perplexity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The file llama-perplexity writes with {@code --kl-divergence-base} and reads back with
 * {@code --kl-divergence} (examples/perplexity/perplexity.cpp, mainline and ik_llama.cpp alike), so
 * files move between panllama and llama.cpp in both directions. Little-endian:
 * <pre>
 *   "_logits_"                    8 bytes
 *   n_ctx, n_vocab, n_chunk       int32 each
 *   tokens                        int32[n_chunk * n_ctx], the text's tokens (not the BOS put at each chunk start)
 *   per chunk, per scored position (n_ctx - 1 - n_ctx/2 rows, positions n_ctx/2 .. n_ctx-2), one row of
 *   nv = 2*((n_vocab + 1)/2) + 4 uint16:
 *       float scale, float min_log_prob   (the first 4 uint16)
 *       q[n_vocab]                        log p[i] = scale * q[i] + min_log_prob
 *       one padding uint16 when n_vocab is odd
 * </pre>
 * A row spans log-probabilities from the largest down to a floor in 65535 steps, anything lower
 * stored as 0. The floor is 24 below the largest (ik_llama.cpp's choice; mainline uses 16), lowered
 * when needed to include the token that actually came next: otherwise every such token the base
 * model found very unlikely is clamped, which biases PPL(base) low — stories260K, whose confident
 * mistakes reach 30 nats, reads 6.821 instead of 6.846 on the TinyStories sample with a fixed floor
 * of 24 (5.38 instead of 5.63 over three chunks with 16). Readers need not know: each row carries
 * its own scale and minimum.
 */
public final class LogProbFile {
    private static final byte[] MAGIC = "_logits_".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 8 + 3 * 4;
    /** Log-probabilities more than this below the top one (and below the next token's) are not resolved. */
    static final float FLOOR = 24f;

    private LogProbFile() {}

    /** uint16 per row: two floats, the vocabulary, padded to an even count. */
    public static int rowShorts(int vocab) {
        return 2 * ((vocab + 1) / 2) + 4;
    }

    /** Positions scored per chunk of {@code ctx} tokens, as in perplexity: ctx/2 .. ctx-2. */
    public static int scoredPerChunk(int ctx) {
        return ctx - 1 - ctx / 2;
    }

    /**
     * Encodes one position's logits {@code logits[off, off + vocab)}, followed by token {@code next}, into
     * {@code row} (little-endian, at its position, {@link #rowShorts} uint16 long).
     */
    static void encodeRow(float[] logits, int off, int vocab, int next, ByteBuffer row) {
        float max = logits[off];
        float min = logits[off];
        for (int i = 1; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
            min = Math.min(min, logits[off + i]);
        }
        min = Math.max(min, Math.min(max - FLOOR, logits[off + next]));
        double sumExp = 0;
        for (int i = 0; i < vocab; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        float logSumExp = (float) Math.log(sumExp);
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535f;
        row.putFloat(scale).putFloat(minLogProb);
        float inv = scale != 0 ? 1 / scale : 0;
        for (int i = 0; i < vocab; i++) {
            float l = logits[off + i];
            int q = l > min ? (int) Math.min(65535, Math.rint(inv * (l - min))) : 0;
            row.putShort((short) q);
        }
        if ((vocab & 1) != 0) row.putShort((short) 0);
    }

    /** Writes a base file: the header and tokens at once, then each chunk's scored logits in order. */
    public static final class Writer implements AutoCloseable {
        private final FileChannel channel;
        private final Path path;
        private final int ctx;
        private final int vocab;
        private final int chunks;
        private final int[] tokens;
        private final ByteBuffer row;
        private int written;

        /** @param tokens the scored text, {@code chunks * ctx} tokens */
        public Writer(Path path, int ctx, int vocab, int[] tokens) throws IOException {
            if (tokens.length == 0 || tokens.length % ctx != 0) {
                throw new IllegalArgumentException("tokens must fill whole chunks of " + ctx + ", got " + tokens.length);
            }
            for (int t : tokens) {
                if (t < 0 || t >= vocab) throw new IllegalArgumentException("token " + t + " is outside the vocabulary of " + vocab);
            }
            this.path = path;
            this.ctx = ctx;
            this.vocab = vocab;
            this.chunks = tokens.length / ctx;
            this.tokens = tokens.clone();
            this.row = ByteBuffer.allocate(2 * rowShorts(vocab)).order(ByteOrder.LITTLE_ENDIAN);
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES + 4 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(ctx).putInt(vocab).putInt(chunks);
            for (int t : tokens) head.putInt(t);
            writeFully(head.flip());
        }

        /** Appends the next chunk: {@code logits} holds at least {@link #scoredPerChunk} rows of {@code vocab}. */
        public void writeChunk(float[] logits) throws IOException {
            if (written == chunks) throw new IllegalStateException(path + ": all " + chunks + " chunks are written");
            int rows = scoredPerChunk(ctx);
            if (logits.length < rows * vocab) {
                throw new IllegalArgumentException("chunk logits hold " + logits.length / vocab + " rows, need " + rows);
            }
            int next = written * ctx + ctx / 2 + 1;        // the token after the first scored position
            for (int r = 0; r < rows; r++) {
                row.clear();
                encodeRow(logits, r * vocab, vocab, tokens[next + r], row);
                writeFully(row.flip());
            }
            written++;
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) channel.write(b);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** Reads a base file written by panllama or llama-perplexity; the size is checked against the header. */
    public static final class Reader implements AutoCloseable {
        private final FileChannel channel;
        private final Path path;
        private final int ctx;
        private final int vocab;
        private final int chunks;
        private final int[] tokens;
        private final long chunkBytes;

        public Reader(Path path) throws IOException {
            this.path = path;
            this.channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                ByteBuffer head = readAt(0, HEADER_BYTES, "header");
                byte[] magic = new byte[MAGIC.length];
                head.get(magic);
                if (!java.util.Arrays.equals(magic, MAGIC)) {
                    throw new IOException(path + " does not look like a file of log-probabilities (no \"_logits_\" header);"
                            + " write one with --kl-divergence-base FILE without --kl-divergence");
                }
                ctx = head.getInt();
                vocab = head.getInt();
                chunks = head.getInt();
                if (ctx < 4 || vocab <= 0 || chunks <= 0) {
                    throw new IOException(path + ": bad header (n_ctx " + ctx + ", n_vocab " + vocab + ", n_chunk " + chunks + ")");
                }
                chunkBytes = 2L * rowShorts(vocab) * scoredPerChunk(ctx);
                long tokenBytes = 4L * ctx * chunks;
                long expected = HEADER_BYTES + tokenBytes + chunkBytes * chunks;
                if (channel.size() != expected) {
                    throw new IOException(path + ": " + channel.size() + " bytes, but n_ctx " + ctx + ", n_vocab " + vocab
                            + " and " + chunks + " chunks make " + expected + " (truncated or not a log-probability file)");
                }
                if (tokenBytes > Integer.MAX_VALUE) throw new IOException(path + ": too many tokens (" + ctx * (long) chunks + ")");
                tokens = new int[Math.toIntExact((long) ctx * chunks)];
                readAt(HEADER_BYTES, (int) tokenBytes, "tokens").asIntBuffer().get(tokens);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        public int contextSize() { return ctx; }

        public int vocabSize() { return vocab; }

        public int chunks() { return chunks; }

        /** All chunks' tokens, {@code chunks * ctx}. */
        public int[] tokens() { return tokens.clone(); }

        /** The rows of chunk {@code c} (little-endian), to decode with {@link #decodeRow}. */
        public ByteBuffer readChunk(int c) throws IOException {
            if (c < 0 || c >= chunks) throw new IndexOutOfBoundsException("chunk " + c + " of " + chunks);
            long at = HEADER_BYTES + 4L * ctx * chunks + chunkBytes * c;
            return readAt(at, Math.toIntExact(chunkBytes), "chunk " + (c + 1));
        }

        /** Decodes row {@code r} of a chunk into {@code vocab} log-probabilities. */
        public void decodeRow(ByteBuffer chunk, int r, float[] logProbs) {
            int at = r * 2 * rowShorts(vocab);
            float scale = chunk.getFloat(at);
            float minLogProb = chunk.getFloat(at + 4);
            for (int i = 0; i < vocab; i++) {
                logProbs[i] = scale * Short.toUnsignedInt(chunk.getShort(at + 8 + 2 * i)) + minLogProb;
            }
        }

        private ByteBuffer readAt(long position, int length, String what) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) {
                if (channel.read(b, position + b.position()) < 0) throw new IOException(path + ": truncated in the " + what);
            }
            return b.flip();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
