package dev.panllama.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopStringsTest {
    @Test
    void holdsBackWhatMayBeginAStopStringAndCutsAtIt() {
        StopStrings s = new StopStrings(List.of("\nUser:", "###"));
        assertThat(s.offer("Hello")).isEqualTo("Hello");
        assertThat(s.offer(" there\n")).isEqualTo(" there");       // "\n" may begin "\nUser:"
        assertThat(s.offer("Us")).isEmpty();
        assertThat(s.offer("e")).isEmpty();
        assertThat(s.offer("r: and more")).isEmpty();
        assertThat(s.stopped()).isTrue();
        assertThat(s.flush()).isEmpty();
    }

    @Test
    void releasesHeldTextThatTurnsOutNotToBeAStop() {
        StopStrings s = new StopStrings(List.of("###"));
        assertThat(s.offer("a #")).isEqualTo("a ");
        assertThat(s.offer("#b")).isEqualTo("##b");
        assertThat(s.offer("c ##")).isEqualTo("c ");
        assertThat(s.flush()).isEqualTo("##");
        assertThat(s.stopped()).isFalse();
    }

    @Test
    void theEarliestStopWinsWithinOnePiece() {
        StopStrings s = new StopStrings(List.of("cd", "b"));
        assertThat(s.offer("abcd")).isEqualTo("a");
    }

    @Test
    void noStopsPassEverythingThrough() {
        StopStrings s = new StopStrings(List.of());
        assertThat(s.offer("x\n###")).isEqualTo("x\n###");
    }
}
