package dev.panllama.tokenizer;

/**
 * The symbols of the merge loops: a doubly linked list of byte ranges of a text, one per UTF-8
 * character to begin with (a truncated sequence at the end is one short symbol), as llama.cpp's llm_symbol.
 */
final class Symbols {
    final String text;
    final int[] start;
    final int[] len;
    final int[] prev;
    final int[] next;
    final int count;

    Symbols(String text) {
        this.text = text;
        int n = text.length();
        start = new int[n];
        len = new int[n];
        prev = new int[n];
        next = new int[n];
        int c = 0;
        for (int offset = 0; offset < n; c++) {
            int l = Math.min(Utf8.sequenceLength(text.charAt(offset)), n - offset);
            start[c] = offset;
            len[c] = l;
            prev[c] = c - 1;
            offset += l;
            next[c] = offset == n ? -1 : c + 1;
        }
        count = c;
    }

    /** Queues the merge of two adjacent symbols, if they may merge; either index may be -1 (no symbol). */
    interface Candidates {
        void offer(Symbols symbols, BigramQueue queue, int left, int right);
    }

    /**
     * The merge loop shared by SPM and BPE: take the best candidate; skip it when stale (a side was
     * merged away or grew since it was queued); merge; queue the pairs the merged symbol now forms.
     */
    void mergeAll(Candidates candidates) {
        BigramQueue queue = new BigramQueue(count);
        for (int i = 1; i < count; i++) candidates.offer(this, queue, i - 1, i);
        while (!queue.isEmpty()) {
            queue.pop();
            int l = queue.topLeft;
            int r = queue.topRight;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != queue.topSize) continue;
            mergeRightInto(l, r);
            candidates.offer(this, queue, prev[l], l);
            candidates.offer(this, queue, l, next[l]);
        }
    }

    private void mergeRightInto(int l, int r) {
        len[l] += len[r];
        len[r] = 0;
        next[l] = next[r];
        if (next[r] >= 0) prev[next[r]] = l;
    }
}
