package dev.panllama.gpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LaunchGeometryTest {

    @Test
    void matvecIsOneWarpPerRowFourRowsPerBlock() {
        assertThat(LaunchGeometry.matvec(1)).isEqualTo(new LaunchGeometry(1, 1, 1, 32, 4, 1));
        assertThat(LaunchGeometry.matvec(4)).isEqualTo(new LaunchGeometry(1, 1, 1, 32, 4, 1));
        assertThat(LaunchGeometry.matvec(4097)).isEqualTo(new LaunchGeometry(1025, 1, 1, 32, 4, 1));
        assertThat(LaunchGeometry.matvec(151_936).gridX()).isEqualTo(37_984);
    }

    /** dq kernels: row = blockIdx.x + blockIdx.y * 65535, returning when ≥ rows: every row exactly once. */
    @ParameterizedTest
    @ValueSource(ints = {1, 255, 65_535, 65_536, 131_070, 131_071, 200_000})
    void dequantCoversEveryRowOnceWithinTheGridLimits(int rows) {
        LaunchGeometry g = LaunchGeometry.dequant(rows);
        assertThat(g.blockX()).isEqualTo(256);
        assertThat(g.gridX()).isLessThanOrEqualTo(65_535);
        assertThat(g.gridY()).isLessThanOrEqualTo(65_535);
        int[] hits = new int[rows];
        for (int y = 0; y < g.gridY(); y++) {
            for (int x = 0; x < g.gridX(); x++) {
                long row = x + (long) y * 65_535;
                if (row < rows) hits[(int) row]++;
            }
        }
        for (int r = 0; r < rows; r++) assertThat(hits[r]).as("row %d", r).isEqualTo(1);
        assertThat((long) g.gridX() * g.gridY() - rows).as("idle blocks").isLessThan(65_535);
    }

    @Test
    void dequantOfTheLargestWeightStaysWithinY() {
        LaunchGeometry g = LaunchGeometry.dequant(Integer.MAX_VALUE);
        assertThat(g.gridY()).isEqualTo(32_769);
        assertThat((long) g.gridX() * g.gridY()).isGreaterThanOrEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void elementwisePerRowRopeAndAttention() {
        assertThat(LaunchGeometry.elementwise(256)).isEqualTo(new LaunchGeometry(1, 1, 1, 256, 1, 1));
        assertThat(LaunchGeometry.elementwise(257)).isEqualTo(new LaunchGeometry(2, 1, 1, 256, 1, 1));
        assertThat(LaunchGeometry.elementwise(512 * 14_336).gridX()).isEqualTo(28_672);
        assertThat(LaunchGeometry.perRow(7)).isEqualTo(new LaunchGeometry(7, 1, 1, 256, 1, 1));
        assertThat(LaunchGeometry.perRow(100_000).gridX()).isEqualTo(100_000);    // x may exceed 65535
        assertThat(LaunchGeometry.rope(3, 5)).isEqualTo(new LaunchGeometry(15, 1, 1, 128, 1, 1));
        assertThat(LaunchGeometry.attention(32, 9)).isEqualTo(new LaunchGeometry(32, 9, 1, 128, 1, 1));
    }

    @Test
    void emptyOrOversizedLaunchesAreRefused() {
        assertThatThrownBy(() -> LaunchGeometry.elementwise(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LaunchGeometry.matvec(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LaunchGeometry.attention(8, 65_536)).hasMessageContaining("65535");
        assertThatThrownBy(() -> new LaunchGeometry(1, 1, 1, 64, 32, 1)).hasMessageContaining("1024");
    }

    @Test
    void attentionOverManyTokensIsChunkedSoEveryTokenRunsOnceInOrder() {
        assertThat(LaunchGeometry.attentionChunks(512)).containsExactly(new LaunchGeometry.Chunk(0, 512));
        List<LaunchGeometry.Chunk> c = LaunchGeometry.attentionChunks(140_000);
        assertThat(c).containsExactly(new LaunchGeometry.Chunk(0, 65_535), new LaunchGeometry.Chunk(65_535, 65_535),
                new LaunchGeometry.Chunk(131_070, 8_930));
        int next = 0;
        for (LaunchGeometry.Chunk ch : c) {
            assertThat(ch.first()).isEqualTo(next);
            LaunchGeometry.attention(64, ch.count());     // each chunk is a valid launch
            next += ch.count();
        }
        assertThat(next).isEqualTo(140_000);
    }
}
