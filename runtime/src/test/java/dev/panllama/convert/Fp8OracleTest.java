package dev.panllama.convert;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;
import dev.panllama.model.ModelFiles;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import dev.panllama.util.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The FP8 oracle of ../shared/reference/fp8: a synthetic block-scaled checkpoint, and llama-quantize's
 * Q8_0 of its exact dequantization. FP8 -> Q8_0 with the scales folded in must give llama-quantize's
 * blocks: the reference values are float products fp8 x scale, which we form the same way, and our
 * Q8_0 codec is ggml's quantize_row_q8_0_ref. The issue allows 0.1% of blocks to differ.
 */
class Fp8OracleTest {

    @Test
    void onTheFlyQ8_0MatchesLlamaQuantizeOfTheReference() throws IOException {
        Path dir = TestFiles.requireFp8("fp8-block128");
        Path ref = TestFiles.requireShared("reference/fp8/zoo-llama-fp8-block128-ref-Q8_0.gguf");
        try (TensorSource ours = ModelFiles.open(dir, GgufLoadOptions.INSPECT, 2, TestFiles.stories260K());
             MappedGguf theirs = MappedGguf.open(ref)) {
            long[] count = new long[2];
            for (Tensor t : ours.tensors()) {
                if (t.type() != GgmlType.Q8_0) continue;     // the FP8 weights; embeddings stay BF16
                compareBlocks(t, theirs.tensor(t.name()), count);
            }
            double pct = 100.0 * count[0] / count[1];
            System.out.printf(Locale.ROOT, "FP8 -> Q8_0 on the fly vs llama-quantize: %d of %d blocks identical (%.3f%%)%n",
                    count[0], count[1], pct);
            // 2 layers x (q, o: 256x256; k, v: 128x256; gate, up, down: 768x256) / 32 per block
            assertThat(count[1]).as("blocks of the 14 FP8 matrices").isEqualTo(2L * (2 * 65536 + 2 * 32768 + 3 * 196608) / 32);
            assertThat(pct).isGreaterThanOrEqualTo(99.9);
        }
    }

    /** An FP8 GGUF re-encoded to Q8_0 (the quantize path) equals llama-quantize's file in every tensor. */
    @Test
    void fp8GgufRequantizedMatchesLlamaQuantize(@TempDir Path tmp) throws IOException {
        Path dir = TestFiles.requireFp8("fp8-block128");
        Path ref = TestFiles.requireShared("reference/fp8/zoo-llama-fp8-block128-ref-Q8_0.gguf");
        Path fp8 = tmp.resolve("fp8.gguf");
        Path q8 = tmp.resolve("q8.gguf");
        GgufConverter.convert(dir, fp8, OutType.FP8, TestFiles.stories260K(), 2, ProgressListener.NONE);
        GgufConverter.convert(fp8, q8, OutType.Q8_0, null, 2, ProgressListener.NONE);
        try (MappedGguf ours = MappedGguf.open(q8); MappedGguf theirs = MappedGguf.open(ref)) {
            assertThat(ours.tensorCount()).isEqualTo(theirs.tensorCount());
            long[] count = new long[2];
            for (Tensor t : theirs.tensors()) {
                Tensor o = ours.tensor(t.name());
                assertThat(o.type()).as(t.name()).isEqualTo(t.type());
                if (t.type() == GgmlType.Q8_0) {
                    compareBlocks(o, t, count);
                } else {
                    assertThat(o.data().mismatch(t.data())).as(t.name()).isEqualTo(-1L);
                }
            }
            System.out.printf(Locale.ROOT, "FP8 GGUF -> Q8_0 vs llama-quantize: %d of %d blocks identical%n", count[0], count[1]);
            assertThat(count[0]).isEqualTo(count[1]);
        }
    }

    private static void compareBlocks(Tensor ours, Tensor theirs, long[] count) {
        assertThat(ours.shape()).as(ours.name()).containsExactly(theirs.shape());
        assertThat(theirs.type()).isEqualTo(GgmlType.Q8_0);
        long blocks = ours.byteSize() / GgmlType.Q8_0.typeSize();
        MemorySegment a = ours.data();
        MemorySegment b = theirs.data();
        for (long i = 0; i < blocks; i++) {
            long at = i * GgmlType.Q8_0.typeSize();
            if (a.asSlice(at, GgmlType.Q8_0.typeSize()).mismatch(b.asSlice(at, GgmlType.Q8_0.typeSize())) == -1) count[0]++;
            count[1]++;
        }
    }
}
