package dev.panllama.tensor;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our quantizers for ik_llama.cpp's IQ2_K, IQ2_KS, IQ3_K, IQ4_K, IQ4_KS, IQ4_KSS, IQ5_K and IQ6_K
 * (and the interleaved IQ2_K_R4, IQ3_K_R4, IQ4_K_R4, Q4_0_R8, Q8_0_R8) against ik_llama.cpp's own
 * {@code llama-quantize --pure} of zoo-llama-f32.gguf (../shared/reference/zoo-ik, no imatrix): over
 * all tensors of the type, the RMSE of our decoded weights against the F32 source must be within 2% of
 * that of ik_llama.cpp's file (issue 11). The codecs follow ik_llama.cpp's algorithms operation by
 * operation, so the blocks should also come out byte-identical: the share is printed and must reach
 * 99% (ik_llama.cpp's compiled float code, with fused multiply-adds and vectorized sums, decides a rare
 * near-tie the other way). The per-row float scales of IQ4_KS and IQ4_KSS, a least-squares fit summed
 * over the whole row, mostly differ from ik_llama.cpp's by an ulp for the same reason; the largest
 * relative difference (rows where a block differs) is printed. IQ2_KS's row scale is a half: it
 * differs only in rows where a block does.
 */
class IkQuantizeTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"IQ2_K", "IQ2_KS", "IQ3_K", "IQ4_K", "IQ4_KS", "IQ4_KSS", "IQ5_K", "IQ6_K"})
    void quantizationMatchesIkLlamaCpp(String typeName) throws IOException {
        GgmlType type = GgmlType.byName(typeName);
        Path f32Path = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        Path ikPath = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + typeName + ".gguf");
        double oursErr = 0, ikErr = 0;
        long rows = 0, elements = 0, blocks = 0, identicalBlocks = 0;
        double worstScaleDiff = 0;
        try (MappedGguf f32 = MappedGguf.open(f32Path); MappedGguf ik = MappedGguf.open(ikPath); Arena arena = Arena.ofConfined()) {
            for (Tensor theirs : ik.tensors()) {
                if (theirs.type() != type) continue;
                Tensor source = f32.tensor(theirs.name());
                int ne0 = Math.toIntExact(source.rowLength());
                float[] x = new float[ne0];
                float[] decoded = new float[ne0];
                MemorySegment ours = arena.allocate(theirs.rowBytes());
                for (long r = 0; r < source.rows(); r++) {
                    source.dequantizeRow(r, x, 0);
                    type.codec().quantize(x, 0, ours, 0, ne0);
                    MemorySegment theirRow = theirs.data().asSlice(r * theirs.rowBytes(), theirs.rowBytes());
                    for (long at = type.rowMetaSize(); at < theirs.rowBytes(); at += type.typeSize()) {
                        if (MemorySegment.mismatch(ours, at, at + type.typeSize(), theirRow, at, at + type.typeSize()) < 0) identicalBlocks++;
                        blocks++;
                    }
                    if (type.rowMetaSize() > 0) {
                        float a = rowScale(ours, type), b = rowScale(theirRow, type);
                        worstScaleDiff = Math.max(worstScaleDiff, Math.abs(a - b) / Math.abs(b));
                    }
                    type.codec().dequantize(ours, 0, decoded, 0, ne0);
                    oursErr += squaredError(x, decoded);
                    theirs.dequantizeRow(r, decoded, 0);
                    ikErr += squaredError(x, decoded);
                    rows++;
                    elements += ne0;
                }
            }
        }
        assertThat(rows).isPositive();
        double oursRmse = Math.sqrt(oursErr / elements), ikRmse = Math.sqrt(ikErr / elements);
        System.out.printf("IK-QUANTIZE %s: RMSE vs F32 ours %.7g, ik_llama.cpp %.7g (ratio %.6f); %d/%d blocks byte-identical; "
                + "row scales differ by at most %.3g relative%n",
                typeName, oursRmse, ikRmse, oursRmse / ikRmse, identicalBlocks, blocks, worstScaleDiff);
        assertThat(oursRmse / ikRmse).as(typeName + " RMSE ours / ik_llama.cpp").isLessThanOrEqualTo(1.02);
        assertThat((double) identicalBlocks / blocks).as(typeName + " byte-identical blocks").isGreaterThanOrEqualTo(0.99);
    }

    /**
     * The row-interleaved types quantize a whole group of rows (their plain type's quantizer, then
     * ik_llama.cpp's repacking): the stored blocks must equal ik_llama.cpp's files in 99% of cases (the
     * plain quantizers' own agreement), which also pins the repacking down byte for byte.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Q4_0_R8", "Q8_0_R8", "IQ2_K_R4", "IQ3_K_R4", "IQ4_K_R4"})
    void interleavedQuantizationMatchesIkLlamaCpp(String typeName) throws IOException {
        GgmlType type = GgmlType.byName(typeName);
        int unit = type.interleavedRows();
        Path f32Path = TestFiles.requireShared("reference/zoo/zoo-llama-f32.gguf");
        Path ikPath = TestFiles.requireShared("reference/zoo-ik/zoo-llama-" + typeName + ".gguf");
        long blocks = 0, identicalBlocks = 0;
        try (MappedGguf f32 = MappedGguf.open(f32Path); MappedGguf ik = MappedGguf.open(ikPath); Arena arena = Arena.ofConfined()) {
            for (Tensor theirs : ik.tensors()) {
                if (theirs.type() != type) continue;
                Tensor source = f32.tensor(theirs.name());
                int ne0 = Math.toIntExact(source.rowLength());
                float[] x = new float[unit * ne0];
                long groupBytes = unit * theirs.rowBytes();
                long stored = (long) unit * type.typeSize();
                MemorySegment ours = arena.allocate(groupBytes);
                for (long r = 0; r < source.rows(); r += unit) {
                    for (int i = 0; i < unit; i++) source.dequantizeRow(r + i, x, i * ne0);
                    type.codec().quantize(x, 0, ours, 0, unit * ne0);
                    MemorySegment theirGroup = theirs.data().asSlice(r * theirs.rowBytes(), groupBytes);
                    for (long at = 0; at < groupBytes; at += stored) {
                        if (MemorySegment.mismatch(ours, at, at + stored, theirGroup, at, at + stored) < 0) identicalBlocks++;
                        blocks++;
                    }
                }
            }
        }
        System.out.printf("IK-QUANTIZE %s: %d/%d stored blocks (%d rows each) byte-identical%n", typeName, identicalBlocks, blocks, unit);
        assertThat(blocks).isPositive();
        assertThat((double) identicalBlocks / blocks).as(typeName + " byte-identical blocks").isGreaterThanOrEqualTo(0.99);
    }

    /** The row's scale: a float (IQ4_KS, IQ4_KSS) or a half (IQ2_KS). */
    private static float rowScale(MemorySegment row, GgmlType type) {
        return type.rowMetaSize() == 4 ? row.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)
                : Float.float16ToFloat(row.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0));
    }

    private static double squaredError(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double e = (double) y[i] - x[i];
            s += e * e;
        }
        return s;
    }
}
