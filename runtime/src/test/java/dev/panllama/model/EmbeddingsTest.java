package dev.panllama.model;

import dev.panllama.model.Embeddings.Pooling;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Poolings and norms on hand-worked values (llama.cpp's definitions: common_embd_normalize, pooling types). */
class EmbeddingsTest {
    /** Three tokens, two dimensions. */
    private static final float[] HIDDEN = {1, 2, 3, -4, 5, 6};

    @Test
    void poolings() {
        assertThat(Embeddings.pool(HIDDEN, 3, 2, Pooling.MEAN)).isDeepEqualTo(new float[][]{{3, 4 / 3f}});
        assertThat(Embeddings.pool(HIDDEN, 3, 2, Pooling.CLS)).isDeepEqualTo(new float[][]{{1, 2}});
        assertThat(Embeddings.pool(HIDDEN, 3, 2, Pooling.LAST)).isDeepEqualTo(new float[][]{{5, 6}});
        assertThat(Embeddings.pool(HIDDEN, 3, 2, Pooling.NONE)).isDeepEqualTo(new float[][]{{1, 2}, {3, -4}, {5, 6}});
        assertThatThrownBy(() -> Embeddings.pool(HIDDEN, 2, 2, Pooling.MEAN)).hasMessageContaining("not 2 x 2");
        assertThat(Pooling.parse("last")).isEqualTo(Pooling.LAST);
        assertThatThrownBy(() -> Pooling.parse("max")).hasMessage("--pooling max: must be one of none, mean, cls, last");
    }

    @Test
    void norms() {
        float[] v = {3, -4};
        Embeddings.normalize(v, 2);
        assertThat(v).containsExactly(0.6f, -0.8f);
        v = new float[]{3, -4};
        Embeddings.normalize(v, 1);
        assertThat(v[0]).isCloseTo(3 / 7f, within(1e-7f));
        assertThat(v[1]).isCloseTo(-4 / 7f, within(1e-7f));
        v = new float[]{3, -4};
        Embeddings.normalize(v, 0);
        assertThat(v).containsExactly(3 * 32760 / 4f, -32760f);
        v = new float[]{3, -4};
        Embeddings.normalize(v, 3);
        double p3 = Math.cbrt(27 + 64);
        assertThat(v[0]).isCloseTo((float) (3 / p3), within(1e-6f));
        v = new float[]{3, -4};
        Embeddings.normalize(v, -1);
        assertThat(v).containsExactly(3, -4);
        v = new float[]{0, 0};
        Embeddings.normalize(v, 2);
        assertThat(v).containsExactly(0, 0);
    }
}
