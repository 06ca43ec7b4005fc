package dev.panllama.perplexity;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The statistics of KlDivergence against values computed here in double precision. */
class KlDivergenceTest {
    private static final int VOCAB = 64;

    /** KL(base || model) = sum p_base (log p_base - log p_model), to float precision (1e-5 relative). */
    @Test
    void klDivergenceAndTokenStatisticsMatchTheirDefinitions() {
        Random rnd = new Random(11);
        KlDivergence kld = new KlDivergence();
        int n = 200;
        double sumKl = 0, sumNll = 0, sumNllBase = 0, sumDp = 0;
        int sameTop = 0;
        for (int k = 0; k < n; k++) {
            float[] base = gaussian(rnd, 3);
            float[] model = base.clone();
            for (int i = 0; i < VOCAB; i++) model[i] += (float) (rnd.nextGaussian() * 0.5);
            int target = rnd.nextInt(VOCAB);
            double[] lpBase = LogProbFileTest.logSoftmax(base, 0, VOCAB);
            double[] lpModel = LogProbFileTest.logSoftmax(model, 0, VOCAB);
            kld.add(model, 0, VOCAB, target, toFloat(lpBase));
            double kl = 0;
            for (int i = 0; i < VOCAB; i++) if (lpBase[i] > -16) kl += Math.exp(lpBase[i]) * (lpBase[i] - lpModel[i]);
            sumKl += kl;
            sumNll -= lpModel[target];
            sumNllBase -= lpBase[target];
            sumDp += Math.exp(lpModel[target]) - Math.exp(lpBase[target]);
            if (argmax(base) == argmax(model)) sameTop++;
        }
        assertThat(kld.count()).isEqualTo(n);
        assertThat(kld.kld().value()).isCloseTo(sumKl / n, within(1e-5 * sumKl / n));
        assertThat(kld.kld().value()).isPositive();
        assertThat(kld.ppl().value()).isCloseTo(Math.exp(sumNll / n), within(1e-4));
        assertThat(kld.basePpl().value()).isCloseTo(Math.exp(sumNllBase / n), within(1e-4));
        assertThat(kld.logPplRatio().value()).isCloseTo((sumNll - sumNllBase) / n, within(1e-5));
        assertThat(kld.pplDifference().value()).isCloseTo(Math.exp(sumNll / n) - Math.exp(sumNllBase / n), within(1e-4));
        assertThat(kld.deltaP().value()).isCloseTo(sumDp / n, within(1e-6));
        assertThat(kld.sameTop().value()).isEqualTo((double) sameTop / n);
        assertThat(sameTop).isBetween(1, n - 1);      // the test covers both outcomes
        // The two perplexities are strongly correlated: both see the same target tokens.
        assertThat(kld.logPplCorrelation()).isBetween(0.5, 1.0);
        // ... so the ratio's error is below that of independent estimates.
        double errQ = kld.ppl().error() / kld.ppl().value();
        double errBase = kld.basePpl().error() / kld.basePpl().value();
        assertThat(kld.logPplRatio().error()).isPositive().isLessThan(Math.hypot(errQ, errBase));
    }

    /** A model against its own 16-bit log-probabilities: KLD within the rows' rounding, same top token everywhere. */
    @Test
    void aModelAgainstItselfIsZeroUpToTheRowRounding() {
        Random rnd = new Random(3);
        KlDivergence kld = new KlDivergence();
        ByteBuffer row = ByteBuffer.allocate(2 * LogProbFile.rowShorts(VOCAB)).order(ByteOrder.LITTLE_ENDIAN);
        float[] decoded = new float[VOCAB];
        for (int k = 0; k < 150; k++) {
            float[] logits = gaussian(rnd, 4);
            int next = rnd.nextInt(VOCAB);
            row.clear();
            LogProbFile.encodeRow(logits, 0, VOCAB, next, row);
            for (int i = 0; i < VOCAB; i++) decoded[i] = row.getFloat(4) + row.getFloat(0) * Short.toUnsignedInt(row.getShort(8 + 2 * i));
            kld.add(logits, 0, VOCAB, next, decoded);
        }
        // Rounding moves each log-probability by at most 24/65535/2 = 1.8e-4; the KL sum by no more.
        assertThat(Math.abs(kld.kld().value())).isLessThan(1.9e-4);
        assertThat(kld.sameTop().value()).isEqualTo(1.0);
        assertThat(kld.pplRatio().value()).isCloseTo(1.0, within(1.9e-4));
        assertThat(kld.rmsDeltaP().value()).isLessThan(1e-4);
    }

    @Test
    void percentilesInterpolateBetweenRanksAsLlamaPerplexity() {
        float[] v = {1, 2, 3, 4};
        assertThat(KlDivergence.median(v)).isEqualTo(2.5);
        assertThat(KlDivergence.median(new float[]{1, 5, 9})).isEqualTo(5);
        assertThat(KlDivergence.percentile(v, 0.5)).isEqualTo(2.5);
        assertThat(KlDivergence.percentile(v, 0.9)).isCloseTo(3.7, within(1e-12));
        assertThat(KlDivergence.percentile(v, 0)).isEqualTo(1);
        assertThat(KlDivergence.percentile(v, 1)).isEqualTo(4);
    }

    /** llama.cpp reports no uncertainty from 10 samples or fewer. */
    @Test
    void fewSamplesHaveNoErrorBars() {
        KlDivergence kld = new KlDivergence();
        Random rnd = new Random(1);
        for (int k = 0; k < 10; k++) {
            float[] l = gaussian(rnd, 1);
            kld.add(l, 0, VOCAB, 0, toFloat(LogProbFileTest.logSoftmax(gaussian(rnd, 1), 0, VOCAB)));
        }
        assertThat(kld.kld().value()).isPositive();
        assertThat(kld.kld().error()).isZero();
        assertThat(kld.ppl().error()).isZero();
    }

    private static float[] gaussian(Random rnd, double sd) {
        float[] v = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) v[i] = (float) (rnd.nextGaussian() * sd);
        return v;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
