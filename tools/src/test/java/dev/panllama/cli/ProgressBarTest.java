package dev.panllama.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class ProgressBarTest {
    private static final long MS = 1_000_000L;

    private final StringWriter text = new StringWriter();
    private long now;
    private final ProgressBar bar = new ProgressBar(new PrintWriter(text), ProgressBar.Units.BYTES, () -> now);

    @Test
    void drawsOneLineThrottledToTenPerSecondAndEndsItWithANewline() {
        long total = 3L << 30;
        bar.update("writing m.gguf", 0, total);
        now = 50 * MS;
        bar.update("writing m.gguf", 1L << 30, total);      // 50 ms after the last draw: skipped
        now = 200 * MS;
        bar.update("writing m.gguf", 3L << 29, total);      // drawn
        now = 3100 * MS;
        bar.update("writing m.gguf", total, total);         // the end is always drawn
        bar.update("writing m.gguf", total, total);         // and only once

        String[] draws = text.toString().split("\r", -1);
        assertThat(draws[0]).isEmpty();
        assertThat(draws).hasSize(4);
        assertThat(draws[1]).isEqualTo("writing m.gguf [>                             ]   0% 0.00/3.00 GiB 0.0 s");
        assertThat(draws[2]).isEqualTo("writing m.gguf [===============>              ]  50% 1.50/3.00 GiB 0.2 s");
        assertThat(draws[3]).isEqualTo("writing m.gguf [==============================] 100% 3.00/3.00 GiB 3.1 s" + System.lineSeparator());
    }

    @Test
    void aNewTaskEndsTheOpenLineAndStartsAnother() {
        bar.update("loading a.gguf", 5L << 20, 10L << 20);
        now = 1000 * MS;
        bar.update("perplexity", 1, 4);
        now = 2000 * MS;
        bar.update("perplexity", 4, 4);
        String[] lines = text.toString().split(System.lineSeparator(), -1);
        assertThat(lines).containsExactly(
                "\rloading a.gguf [===============>              ]  50% 5.0/10.0 MiB 0.0 s",
                "\rperplexity [=======>                      ]  25% 0.0/0.0 MiB 0.0 s"
                        + "\rperplexity [==============================] 100% 0.0/0.0 MiB 1.0 s",
                "");
    }

    @Test
    void countsAndAShorterLineErasesTheRestOfTheLongerOne() {
        ProgressBar counts = new ProgressBar(new PrintWriter(text), ProgressBar.Units.COUNT, () -> now);
        counts.update("chunks", 5, 1000);
        now = 200 * MS;
        counts.update("chunks", 5, 10);
        String[] draws = text.toString().split("\r", -1);
        assertThat(draws[1]).isEqualTo("chunks [>                             ]   0% 5/1000 0.0 s");
        assertThat(draws[2]).isEqualTo("chunks [===============>              ]  50% 5/10 0.2 s" + "  ");
    }
}
