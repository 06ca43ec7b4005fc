package dev.panllama.gpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvRowsTest {

    @Test
    void promptThenGenerationUploadsEachRowOnce() {
        KvRows rows = new KvRows(2, 64);
        assertThat(rows.beforeAttention(0, 0, 5)).isEqualTo(new KvRows.Range(0, 5));
        assertThat(rows.beforeAttention(0, 5, 1)).isEqualTo(new KvRows.Range(5, 6));
        assertThat(rows.beforeAttention(0, 6, 1)).isEqualTo(new KvRows.Range(6, 7));
        assertThat(rows.valid(0)).isEqualTo(7);
        assertThat(rows.valid(1)).isZero();                 // layers are independent
    }

    @Test
    void rewindsReuploadAndGapsAreFilled() {
        KvRows rows = new KvRows(1, 64);
        rows.beforeAttention(0, 0, 10);
        assertThat(rows.beforeAttention(0, 4, 2)).isEqualTo(new KvRows.Range(4, 6));   // a session rewound to 4
        assertThat(rows.valid(0)).isEqualTo(6);
        assertThat(rows.beforeAttention(0, 6, 1)).isEqualTo(new KvRows.Range(6, 7));
        assertThat(rows.beforeAttention(0, 20, 3)).isEqualTo(new KvRows.Range(7, 23)); // rows 7..19 never seen here
    }

    @Test
    void positionsOutsideTheContextAreRefused() {
        KvRows rows = new KvRows(1, 16);
        assertThatThrownBy(() -> rows.beforeAttention(0, 10, 7)).hasMessageContaining("16");
        assertThatThrownBy(() -> rows.beforeAttention(0, -1, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * A host cache and its device mirror under random evaluations (forward, rewind, rows appended while
     * attention ran elsewhere): after each sync the device rows the attention reads equal the host's.
     */
    @Test
    void theMirrorAlwaysMatchesWhatAttentionReads() {
        int ctx = 40;
        int[] host = new int[ctx];
        int[] device = new int[ctx];
        int version = 1;
        KvRows rows = new KvRows(1, ctx);
        Random rnd = new Random(11);
        int pos = 0;
        int lastEnd = 0;
        for (int step = 0; step < 2000; step++) {
            int choice = rnd.nextInt(10);
            if (choice == 0) pos = rnd.nextInt(Math.max(1, pos));          // rewind
            if (choice == 1 && pos == lastEnd && pos < ctx - 1) {           // rows appended while attention ran elsewhere
                int to = pos + 1 + rnd.nextInt(ctx - pos - 1);
                for (int p = pos; p < to; p++) host[p] = version++;
                pos = to;
            }
            int tokens = 1 + rnd.nextInt(Math.min(8, ctx - pos));
            if (pos + tokens > ctx) {
                pos = 0;
                continue;
            }
            for (int p = pos; p < pos + tokens; p++) host[p] = version++;  // the forward pass stores the batch
            KvRows.Range r = rows.beforeAttention(0, pos, tokens);
            System.arraycopy(host, r.from(), device, r.from(), r.count());
            for (int p = 0; p < pos + tokens; p++) assertThat(device[p]).as("step %d row %d", step, p).isEqualTo(host[p]);
            pos += tokens;
            lastEnd = pos;
            if (pos >= ctx) pos = 0;
        }
    }
}
