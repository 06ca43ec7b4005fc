package dev.panllama.tensor;

import dev.panllama.tensor.codec.RowGroupCodec;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The type table's derived columns agree with the codecs they describe. */
class GgmlTypeTest {
    /** ik_llama.cpp's row-interleaved types, as its ggml.h lists them, by group size. */
    private static final Set<GgmlType> FOUR = EnumSet.of(GgmlType.Q5_0_R4, GgmlType.Q6_0_R4, GgmlType.Q2_K_R4, GgmlType.Q3_K_R4,
            GgmlType.Q4_K_R4, GgmlType.Q5_K_R4, GgmlType.Q6_K_R4, GgmlType.IQ2_XXS_R4, GgmlType.IQ2_XS_R4, GgmlType.IQ3_XXS_R4,
            GgmlType.IQ1_S_R4, GgmlType.IQ4_NL_R4, GgmlType.IQ3_S_R4, GgmlType.IQ2_S_R4, GgmlType.IQ1_M_R4, GgmlType.IQ2_BN_R4,
            GgmlType.IQ2_K_R4, GgmlType.IQ3_K_R4, GgmlType.IQ4_K_R4, GgmlType.IQ5_K_R4, GgmlType.IQ4_KS_R4, GgmlType.IQ5_KS_R4);
    private static final Set<GgmlType> EIGHT = EnumSet.of(GgmlType.Q4_0_R8, GgmlType.Q8_0_R8, GgmlType.IQ4_XS_R8, GgmlType.MXFP4_R8);

    @Test
    void interleavedRowsComeFromTheNameAndMatchTheCodec() {
        for (GgmlType t : GgmlType.values()) {
            int expected = FOUR.contains(t) ? 4 : EIGHT.contains(t) ? 8 : t == GgmlType.BF16_R16 ? 16 : 1;
            assertThat(t.interleavedRows()).as(t.name()).isEqualTo(expected);
            if (t.hasCodec()) {
                int codecRows = t.codec() instanceof RowGroupCodec g ? g.rows() : 1;
                assertThat(codecRows).as(t.name() + "'s codec").isEqualTo(expected);
            }
        }
    }
}
