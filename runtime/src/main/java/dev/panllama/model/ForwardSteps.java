package dev.panllama.model;

import dev.panllama.scheduler.ExecutionPlan;
import dev.panllama.scheduler.SplitBuffers;
import dev.panllama.tensor.Tensor;

import static dev.panllama.scheduler.ExecutionPlan.HOST;

/**
 * The first and last steps every architecture's forward pass shares: token embedding on the host, and
 * the output head (final RMS norm, output projection) for the positions whose logits are wanted. Both
 * passes keep the residual stream in slot 0 and use slots 1 and 2 as scratch of the embedding width.
 */
final class ForwardSteps {
    static final int X = 0, XB = 1, XB2 = 2;

    private ForwardSteps() {}

    /** Rows {@code tokens[off..off+n)} of the embedding into slot X on the host. */
    static void embed(Tensor embedding, int[] tokens, int off, int n, int dim, SplitBuffers b) {
        float[] x = b.out(HOST, X, n * dim);
        for (int t = 0; t < n; t++) {
            int id = tokens[off + t];
            if (id < 0 || id >= embedding.rows()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + embedding.rows());
            }
            embedding.dequantizeRow(id, x, t * dim);
        }
    }

    /** Logits of batch positions {@code logitsFrom..n-1} from slot X: RMS norm, then the output weight. */
    static void outputHead(ExecutionPlan plan, SplitBuffers b, ModelConfig c, float[] outputNorm, Tensor output,
                           int n, int logitsFrom, float[] logits) {
        int rows = n - logitsFrom;
        if (rows <= 0) return;
        int dim = c.embeddingLength();
        int d = plan.outputNormDevice();
        float[] tail = b.in(d, X);
        if (logitsFrom > 0) {
            float[] t = b.out(d, XB2, rows * dim);
            System.arraycopy(tail, logitsFrom * dim, t, 0, rows * dim);
            tail = t;
        }
        plan.kernels(d).rmsnorm(tail, outputNorm, b.out(d, XB, rows * dim), rows, dim, c.rmsEps());
        int o = plan.outputDevice();
        plan.kernels(o).matmul(output, b.in(o, XB), logits, rows);
    }
}
