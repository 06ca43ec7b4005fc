package dev.panllama.gpu;

import java.util.ArrayList;
import java.util.List;

/**
 * cuBLAS's arguments for the prompt-batch product {@code y[t*n + r] = sum_j W[r][j] * x[t*k + j]}, where the
 * weight is row-major {@code n × k} (rows k-contiguous, as in GGUF), the activations token-major
 * {@code tokens × k}, and y token-major {@code tokens × n}.
 *
 * <p>cuBLAS is column-major, so the same memory reads differently: W is a column-major {@code k × n}
 * matrix with lda = k, x a column-major {@code k × tokens} matrix with ldb = k, and y a column-major
 * {@code n × tokens} matrix with ldc = n. Hence {@code y = Wᵀ·x}: C (m = n rows, tokens columns) =
 * op(A) = transpose of A, times op(B) = B. A block of weight rows {@code [r0, r0 + rows)} (when the
 * dequantized weight does not fit the scratch at once) is the same product with m = rows, A at row r0
 * of the weight and C at element r0 of y, keeping ldc = n so that its columns still land in y's.
 *
 * @param transa  {@code CUBLAS_OP_T} (1): A is stored k × m
 * @param transb  {@code CUBLAS_OP_N} (0)
 * @param cOffset elements from y's start to this block's C
 */
record GemmShape(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc, long cOffset) {
    static final int OP_N = 0;
    static final int OP_T = 1;

    /** All of y for {@code rows} weight rows of length k and {@code tokens} tokens. */
    static GemmShape of(int rows, int k, int tokens) {
        return block(0, rows, rows, k, tokens);
    }

    /** Weight rows {@code [r0, r0 + rows)} of {@code totalRows}: C starts at y + r0 and keeps ldc = totalRows. */
    static GemmShape block(int r0, int rows, int totalRows, int k, int tokens) {
        if (rows <= 0 || k <= 0 || tokens <= 0 || r0 < 0 || r0 + rows > totalRows) {
            throw new IllegalArgumentException("rows [" + r0 + ", " + (r0 + rows) + ") of " + totalRows + ", k " + k + ", tokens " + tokens);
        }
        return new GemmShape(OP_T, OP_N, rows, tokens, k, k, k, totalRows, r0);
    }

    /** A block of weight rows dequantized and multiplied at once. */
    record RowBlock(int first, int rows) {}

    /**
     * Blocks of weight rows whose F16 copy ({@code rows * k * 2} bytes) fits {@code scratchBytes}; one block
     * when the whole weight fits, never an empty one (a row always goes, even if larger than the scratch).
     */
    static List<RowBlock> rowBlocks(int totalRows, int k, long scratchBytes) {
        if (totalRows <= 0 || k <= 0) throw new IllegalArgumentException(totalRows + " rows of " + k);
        long perBlock = Math.max(1, Math.min(totalRows, scratchBytes / (2L * k)));
        List<RowBlock> out = new ArrayList<>();
        for (long r = 0; r < totalRows; r += perBlock) out.add(new RowBlock((int) r, (int) Math.min(perBlock, totalRows - r)));
        return out;
    }
}
