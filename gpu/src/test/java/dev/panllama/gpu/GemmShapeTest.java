package dev.panllama.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cuBLAS mapping, checked by running BLAS's column-major GEMM definition on the very arrays the
 * kernels hand to cuBLAS (row-major weight, token-major activations, token-major y) and comparing with
 * the SPI's definition of matmul.
 */
class GemmShapeTest {

    /** C[cOffset + i + j*ldc] = sum_l op(A)(i,l) * op(B)(l,j), column-major as cuBLAS reads memory, with BLAS's argument checks. */
    static void blasGemm(GemmShape s, float[] a, int aOffset, float[] b, float[] c) {
        assertThat(s.lda()).as("lda").isGreaterThanOrEqualTo(Math.max(1, s.transa() == GemmShape.OP_N ? s.m() : s.k()));
        assertThat(s.ldb()).as("ldb").isGreaterThanOrEqualTo(Math.max(1, s.transb() == GemmShape.OP_N ? s.k() : s.n()));
        assertThat(s.ldc()).as("ldc").isGreaterThanOrEqualTo(Math.max(1, s.m()));
        for (int i = 0; i < s.m(); i++) {
            for (int j = 0; j < s.n(); j++) {
                double sum = 0;
                for (int l = 0; l < s.k(); l++) {
                    float opA = s.transa() == GemmShape.OP_N ? a[aOffset + i + l * s.lda()] : a[aOffset + l + i * s.lda()];
                    float opB = s.transb() == GemmShape.OP_N ? b[l + j * s.ldb()] : b[j + l * s.ldb()];
                    sum += (double) opA * opB;
                }
                c[(int) s.cOffset() + i + j * s.ldc()] = (float) sum;
            }
        }
    }

    /** The SPI: y[t*n + r] = sum_j W[r][j] * x[t*k + j]. */
    static float[] spiMatmul(float[] w, float[] x, int n, int k, int tokens) {
        float[] y = new float[tokens * n];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < n; r++) {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += (double) w[r * k + j] * x[t * k + j];
                y[t * n + r] = (float) sum;
            }
        }
        return y;
    }

    @ParameterizedTest(name = "{0} rows, k {1}, {2} tokens")
    @CsvSource({"5, 7, 9", "1, 3, 12", "37, 64, 33", "64, 1, 2"})
    void wholeWeightGivesTheSpisResult(int n, int k, int tokens) {
        Random rnd = new Random(n * 31 + k);
        float[] w = random(rnd, n * k), x = random(rnd, tokens * k);
        float[] y = new float[tokens * n];
        GemmShape s = GemmShape.of(n, k, tokens);
        assertThat(s).isEqualTo(new GemmShape(GemmShape.OP_T, GemmShape.OP_N, n, tokens, k, k, k, n, 0));
        blasGemm(s, w, 0, x, y);
        assertThat(y).containsExactly(spiMatmul(w, x, n, k, tokens));
    }

    @Test
    void blocksOfRowsFillTheirPartOfYAndTogetherAllOfIt() {
        int n = 37, k = 24, tokens = 11;
        Random rnd = new Random(3);
        float[] w = random(rnd, n * k), x = random(rnd, tokens * k);
        float[] y = new float[tokens * n];
        java.util.Arrays.fill(y, Float.NaN);
        List<GemmShape.RowBlock> blocks = GemmShape.rowBlocks(n, k, 2L * k * 10);    // 10 rows of F16 per block
        assertThat(blocks).hasSize(4).last().isEqualTo(new GemmShape.RowBlock(30, 7));
        for (GemmShape.RowBlock b : blocks) {
            // The kernels dequantize rows [first, first + rows) into the scratch: A starts at that block.
            float[] scratch = java.util.Arrays.copyOfRange(w, b.first() * k, (b.first() + b.rows()) * k);
            blasGemm(GemmShape.block(b.first(), b.rows(), n, k, tokens), scratch, 0, x, y);
        }
        assertThat(y).containsExactly(spiMatmul(w, x, n, k, tokens));
    }

    @Test
    void rowBlocksCoverEveryRowOnceWithinTheScratch() {
        assertThat(GemmShape.rowBlocks(151_936, 4096, 256L << 20)).hasSize(5)
                .allSatisfy(b -> assertThat(2L * b.rows() * 4096).isLessThanOrEqualTo(256L << 20));
        assertThat(GemmShape.rowBlocks(1000, 4096, 1L << 40)).containsExactly(new GemmShape.RowBlock(0, 1000));
        // A row larger than the scratch still goes, one at a time.
        assertThat(GemmShape.rowBlocks(3, 1 << 20, 1000)).containsExactly(new GemmShape.RowBlock(0, 1),
                new GemmShape.RowBlock(1, 1), new GemmShape.RowBlock(2, 1));
        int next = 0;
        for (GemmShape.RowBlock b : GemmShape.rowBlocks(100_003, 768, 1 << 20)) {
            assertThat(b.first()).isEqualTo(next);
            next += b.rows();
        }
        assertThat(next).isEqualTo(100_003);
    }

    @Test
    void badBlocksAreRefused() {
        assertThatThrownBy(() -> GemmShape.block(30, 8, 37, 4, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> GemmShape.of(0, 4, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
