package dev.panllama.tensor;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.codec.BlockCodec;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our quantizers against llama-quantize: quantizing each F32 tensor of zoo-llama-f32.gguf must give
 * the bytes of the same tensor of zoo-llama-TYPE.gguf (made with {@code llama-quantize --pure}, no
 * imatrix) in at least 99.9% of blocks. The codecs follow ggml's float operations in ggml's order,
 * so any difference means a wrong rounding rule or operation order; the 0.1% margin leaves room for
 * a rare float tie decided differently (reported per type, never expected).
 */
class QuantizeMatchesLlamaQuantizeTest {
    private static final double MIN_IDENTICAL = 0.999;

    static List<String> types() {
        return ZooOracle.typeNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void quantizedBlocksMatchLlamaQuantize(String typeName) throws IOException {
        GgmlType type = ZooOracle.requireCodec(typeName);
        BlockCodec codec = type.codec();
        if (!codec.canQuantize()) {
            String reason = "the " + typeName + " codec cannot quantize yet";
            System.out.println("SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        var f32Path = TestFiles.requireShared("reference/zoo/" + ZooOracle.F32_MODEL);
        var quantizedPath = TestFiles.requireShared("reference/zoo/" + ZooOracle.modelFile(typeName));

        long blocks = 0, identical = 0;
        int tensors = 0;
        try (MappedGguf f32 = MappedGguf.open(f32Path);
             MappedGguf quantized = MappedGguf.open(quantizedPath);
             Arena arena = Arena.ofConfined()) {
            for (Tensor expected : quantized.tensors()) {
                if (expected.type() != type) continue;
                Tensor source = f32.tensor(expected.name());
                assertThat(source.type()).as(source.name()).isEqualTo(GgmlType.F32);
                assertThat(source.shape()).as(source.name()).isEqualTo(expected.shape());

                int ne0 = Math.toIntExact(source.rowLength());
                float[] row = new float[ne0];
                MemorySegment ours = arena.allocate(expected.rowBytes());
                long blocksPerRow = ne0 / type.blockSize();
                for (long r = 0; r < source.rows(); r++) {
                    source.dequantizeRow(r, row, 0);
                    codec.quantize(row, 0, ours, 0, ne0);
                    MemorySegment theirs = expected.data().asSlice(r * expected.rowBytes(), expected.rowBytes());
                    for (long b = 0; b < blocksPerRow; b++) {
                        long at = b * type.typeSize();
                        if (MemorySegment.mismatch(ours, at, at + type.typeSize(), theirs, at, at + type.typeSize()) < 0) identical++;
                    }
                    blocks += blocksPerRow;
                }
                tensors++;
            }
        }
        assertThat(tensors).as("tensors of type " + typeName).isPositive();
        double share = (double) identical / blocks;
        System.out.printf("QUANTIZE %s: %d/%d blocks byte-identical to llama-quantize (%.3f%%) over %d tensors%n",
                typeName, identical, blocks, 100 * share, tensors);
        assertThat(share).as(typeName + " share of byte-identical blocks").isGreaterThanOrEqualTo(MIN_IDENTICAL);
    }
}
