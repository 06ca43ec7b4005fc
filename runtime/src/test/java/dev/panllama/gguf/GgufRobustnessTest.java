package dev.panllama.gguf;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Corrupt, truncated and hostile files end in a one-line {@link GgufFormatException} naming file, byte
 * and field, or load validly: never another exception, an OOM or a hang.
 */
class GgufRobustnessTest {

    /** Parses {@code bytes}; a valid parse must also survive reading every metadata value and tensor bound. */
    private static void parseCleanly(byte[] bytes, int len, String what) {
        MemorySegment seg = MemorySegment.ofArray(bytes).asSlice(0, len);
        try {
            GgufHeader h = GgufParser.parse(seg, "test.gguf");
            for (GgufEntry e : h.metadata().entries()) {
                if (e.value() instanceof GgufArray a) touch(a);
            }
            for (GgufTensorInfo t : h.tensors()) {
                assertThat(h.dataOffset() + t.dataOffset() + t.byteSize()).as(what).isLessThanOrEqualTo(len);
            }
        } catch (GgufFormatException e) {
            assertThat(e.getMessage()).as(what).startsWith("test.gguf: ").doesNotContain("\n");
        } catch (RuntimeException | Error e) {
            fail(what + ": expected GgufFormatException or a valid load, got " + e, e);
        }
    }

    private static void touch(GgufArray a) {
        switch (a.elementType()) {
            case STRING -> a.strings();
            case ARRAY -> {
                for (GgufArray inner : a.arrays()) touch(inner);
            }
            case FLOAT32, FLOAT64 -> a.toFloatArray();
            default -> a.toLongArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K", "llama-2-tiny-random"})
    void truncationAtEveryFieldBoundary(String name) throws IOException {
        Path p = name.equals("stories260K") ? TestFiles.stories260K() : TestFiles.bundled(name + ".gguf");
        byte[] bytes = Files.readAllBytes(p);
        TreeSet<Long> cuts = new TreeSet<>();
        GgufHeader h = GgufParser.parse(MemorySegment.ofArray(bytes), "test.gguf", cuts::add);
        cuts.add(h.dataOffset());
        for (GgufTensorInfo t : h.tensors()) {
            cuts.add(h.dataOffset() + t.dataOffset());
            cuts.add(h.dataOffset() + t.dataOffset() + t.byteSize());
        }
        // Every boundary, and the bytes either side of it. A file whose vocab has 32000 entries has ~10^5
        // boundaries and each parse walks the prefix, so inside such long arrays every 37th is taken.
        long infoStart = h.tensors().isEmpty() ? h.dataOffset() : h.tensors().getFirst().infoOffset();
        boolean sample = cuts.size() > 20_000;
        TreeSet<Long> all = new TreeSet<>();
        int k = 0;
        for (long c : cuts) {
            if (sample && c > 2048 && c < infoStart && k++ % 37 != 0) continue;
            for (long d = -1; d <= 1; d++) if (c + d >= 0 && c + d < bytes.length) all.add(c + d);
        }
        long lastEnd = h.tensors().stream().mapToLong(t -> h.dataOffset() + t.dataOffset() + t.byteSize()).max().orElse(h.dataOffset());
        int errors = 0;
        for (long cut : all) {
            MemorySegment seg = MemorySegment.ofArray(bytes).asSlice(0, cut);
            try {
                GgufParser.parse(seg, "test.gguf");
                assertThat(cut).as("a file cut at byte %d (before its last tensor ends) must not load", cut).isGreaterThanOrEqualTo(lastEnd);
            } catch (GgufFormatException e) {
                errors++;
                assertThat(e.getMessage()).startsWith("test.gguf: at byte ").doesNotContain("\n");
            }
        }
        System.out.printf("%s: %d truncation points around %d field boundaries%s, %d rejected cleanly, the rest valid%n",
                name, all.size(), cuts.size(), sample ? " (1 in 37 inside long arrays)" : "", errors);
        assertThat(errors).isGreaterThan(all.size() / 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K", "llama-2-tiny-random"})
    void randomByteFlips(String name) throws IOException {
        Path p = name.equals("stories260K") ? TestFiles.stories260K() : TestFiles.bundled(name + ".gguf");
        byte[] original = Files.readAllBytes(p);
        GgufHeader h = GgufParser.parse(MemorySegment.ofArray(original), "test.gguf");
        int headerEnd = (int) h.dataOffset();
        int tensorInfoStart = (int) h.tensors().getFirst().infoOffset();
        Random rnd = new Random(20261123L);
        int trials = 1200;
        for (int trial = 0; trial < trials; trial++) {
            byte[] b = original.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int pos = switch (rnd.nextInt(4)) {
                    case 0 -> rnd.nextInt(Math.min(64, headerEnd));                       // the fixed header, first keys
                    case 1 -> tensorInfoStart + rnd.nextInt(headerEnd - tensorInfoStart);  // tensor infos
                    default -> rnd.nextInt(headerEnd);                                     // anywhere in the header
                };
                b[pos] ^= (byte) (1 << rnd.nextInt(8));
                if (rnd.nextInt(8) == 0) b[pos] = (byte) 0xFF;
            }
            parseCleanly(b, b.length, "trial " + trial);
        }
        System.out.println(name + ": " + trials + " corrupted headers, each rejected cleanly or loaded validly");
    }

    // ---- hand-made hostile headers ----

    private static final class Raw {
        final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

        Raw magic() { b.put("GGUF".getBytes(StandardCharsets.US_ASCII)); return this; }
        Raw u32(long v) { b.putInt((int) v); return this; }
        Raw u64(long v) { b.putLong(v); return this; }
        Raw str(String s) { byte[] x = s.getBytes(StandardCharsets.UTF_8); b.putLong(x.length).put(x); return this; }
        Raw pad(int n) { b.put(new byte[n]); return this; }
        byte[] bytes() { return java.util.Arrays.copyOf(b.array(), b.position()); }
        Raw header(long nTensors, long nKv) { return magic().u32(3).u64(nTensors).u64(nKv); }
    }

    private static void assertRejected(byte[] bytes, String field, String problem) {
        assertThatThrownBy(() -> GgufParser.parse(MemorySegment.ofArray(bytes), "h.gguf"))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageStartingWith("h.gguf: at byte ")
                .hasMessageContaining(field)
                .hasMessageContaining(problem);
    }

    @Test
    void hostileHeaders() {
        assertRejected("GGML1234".getBytes(StandardCharsets.US_ASCII), "header.magic", "not a GGUF file");
        assertRejected(new Raw().magic().u32(1).u64(0).u64(0).bytes(), "header.version", "v1 is not supported");
        assertRejected(new Raw().magic().u32(0x03000000).u64(0).u64(0).bytes(), "header.version", "big-endian");
        assertRejected(new Raw().magic().u32(4).u64(0).u64(0).bytes(), "header.version", "not supported");
        assertRejected(new Raw().header(1L << 62, 0).bytes(), "header.tensor_count", "only");
        assertRejected(new Raw().header(-1, 0).bytes(), "header.tensor_count", "larger than any file");
        assertRejected(new Raw().header(0, 1L << 40).bytes(), "header.kv_count", "only");
        assertRejected(new Raw().header(0, 1).u64(1L << 50).pad(16).bytes(), "kv[0].key", "exceeds");
        assertRejected(new Raw().header(0, 1).str("k").u32(99).bytes(), "kv[0] 'k'.type", "unknown metadata value type 99");
        assertRejected(new Raw().header(0, 1).str("k").u32(8).u64(-5).bytes(), "kv[0] 'k'.value", "exceeds");
        assertRejected(new Raw().header(0, 1).str("k").u32(9).u32(8).u64(1L << 60).bytes(), "kv[0] 'k'.value.count", "only");
        assertRejected(new Raw().header(0, 1).str("k").u32(7).b.put((byte) 2).array().clone(), "kv[0] 'k'.value", "neither 0 nor 1");
        // arrays nested 9 deep
        Raw deep = new Raw().header(0, 1).str("k").u32(9);
        for (int i = 0; i < 9; i++) deep.u32(9).u64(1);
        deep.u32(0).u64(0);
        assertRejected(deep.bytes(), "kv[0] 'k'.value", "nested deeper");
        assertRejected(new Raw().header(0, 1).str("general.alignment").u32(4).u32(48).bytes(), "general.alignment", "not a power of 2");
        assertRejected(new Raw().header(0, 1).str("general.alignment").u32(5).u32(32).bytes(), "general.alignment", "must be UINT32");
    }

    private static Raw oneTensor(int nDims, long[] dims, int type, long offset) {
        Raw r = new Raw().header(1, 0).str("w").u32(nDims);
        for (long d : dims) r.u64(d);
        return r.u32(type).u64(offset);
    }

    @Test
    void hostileTensorInfos() {
        assertRejected(oneTensor(5, new long[]{1, 1, 1, 1, 1}, 0, 0).bytes(), "tensor[0] 'w'.n_dims", "at most 4");
        assertRejected(oneTensor(2, new long[]{-4, 1}, 0, 0).bytes(), "tensor[0] 'w'.ne[0]", "negative");
        assertRejected(oneTensor(2, new long[]{1L << 40, 1L << 40}, 0, 0).bytes(), "tensor[0] 'w'.ne[1]", "overflows");
        assertRejected(oneTensor(1, new long[]{32}, 1234, 0).bytes(), "tensor[0] 'w'.type", "unknown tensor type id 1234");
        assertRejected(oneTensor(1, new long[]{31}, 2, 0).bytes(), "tensor[0] 'w'.type", "not a multiple");
        assertRejected(oneTensor(1, new long[]{4}, 0, 7).pad(64).bytes(), "tensor 'w'.offset", "not a multiple of the alignment 32");
        assertRejected(oneTensor(1, new long[]{1L << 20}, 0, 0).pad(64).bytes(), "tensor 'w'.offset", "outside the file");
        assertRejected(oneTensor(1, new long[]{4}, 0, 1L << 62).pad(64).bytes(), "tensor 'w'.offset", "outside the file");
        Raw dup = new Raw().header(2, 0).str("w").u32(1).u64(4).u32(0).u64(0).str("w").u32(1).u64(4).u32(0).u64(32);
        assertRejected(dup.pad(128).bytes(), "tensor[1] 'w'.name", "duplicate tensor name");
    }

    /** Two F32 tensors of 8 elements (32 bytes each, one alignment unit) at the given data offsets. */
    private static byte[] twoTensors(long offsetA, long offsetB) {
        return new Raw().header(2, 0).str("a").u32(1).u64(8).u32(0).u64(offsetA)
                .str("b").u32(1).u64(8).u32(0).u64(offsetB).pad(256).bytes();
    }

    /** gguf.c accepts only data laid out in tensor order, each tensor after the previous, padded to the alignment. */
    @Test
    void tensorDataMustNotOverlapOrBeOutOfOrder() throws IOException {
        GgufHeader ok = GgufParser.parse(MemorySegment.ofArray(twoTensors(0, 32)), "h.gguf");
        assertThat(ok.tensors()).extracting(GgufTensorInfo::dataOffset).containsExactly(0L, 32L);
        assertRejected(twoTensors(0, 0), "tensor 'b'.offset", "data offset 0 overlaps the data of tensor 'a' [0, +32)");
        assertRejected(twoTensors(0, 0), "tensor 'b'.offset", "expected offset 32");
        assertRejected(twoTensors(32, 0), "tensor 'a'.offset", "data offset 32 leaves a gap or is out of order");
        assertRejected(twoTensors(0, 64), "tensor 'b'.offset", "leaves a gap");
        // A 16-byte tensor still takes a whole alignment unit: the next one starts 32 bytes on.
        byte[] small = new Raw().header(2, 0).str("a").u32(1).u64(4).u32(0).u64(0)
                .str("b").u32(1).u64(4).u32(0).u64(32).pad(256).bytes();
        assertThat(GgufParser.parse(MemorySegment.ofArray(small), "h.gguf").tensors()).hasSize(2);
    }

    /** llama.cpp's dbrx vocab file has general.file_type twice: the first value is kept, with a warning. */
    @Test
    void duplicateKeyKeepsTheFirstValue() throws IOException {
        byte[] b = new Raw().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes();
        GgufHeader h = GgufParser.parse(MemorySegment.ofArray(b), "dup.gguf");
        assertThat(h.metadata().size()).isEqualTo(1);
        assertThat(h.metadata().getLong("k")).isEqualTo(1);
    }

    @Test
    void dbrxVocabWithDuplicateKeyLoads() throws IOException {
        Path p = TestFiles.requireShared("testdata/llama.cpp-vocab-pr7132/ggml-vocab-dbrx.gguf");
        try (MappedGguf g = MappedGguf.open(p)) {
            assertThat(g.metadata().getString("tokenizer.ggml.pre")).isEqualTo("dbrx");
            assertThat(g.metadata().getArray("tokenizer.ggml.tokens").size()).isEqualTo(100352);
        }
    }
}
