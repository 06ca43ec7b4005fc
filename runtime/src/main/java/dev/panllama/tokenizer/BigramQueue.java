package dev.panllama.tokenizer;

import java.util.Arrays;

/**
 * The work queue of the merge loops: candidate merges of adjacent symbols, best key first and, among
 * equal keys, the leftmost pair first (the order of llama.cpp's priority queues). Kept in parallel
 * primitive arrays, since a long SPM text holds a candidate per character.
 */
final class BigramQueue {
    private double[] key;
    private int[] left;
    private int[] right;
    private int[] size;
    private int count;

    /** Fields of the entry last returned by {@link #pop()}. */
    int topLeft;
    int topRight;
    int topSize;

    BigramQueue(int capacity) {
        int c = Math.max(8, capacity);
        key = new double[c];
        left = new int[c];
        right = new int[c];
        size = new int[c];
    }

    boolean isEmpty() { return count == 0; }

    /** Adds a candidate; lower keys come out first. */
    void push(double k, int l, int r, int s) {
        if (count == key.length) {
            int c = count * 2;
            key = Arrays.copyOf(key, c);
            left = Arrays.copyOf(left, c);
            right = Arrays.copyOf(right, c);
            size = Arrays.copyOf(size, c);
        }
        int i = count++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(k, l, key[parent], left[parent])) break;
            move(parent, i);
            i = parent;
        }
        set(i, k, l, r, s);
    }

    /** Removes the best entry into the top* fields. */
    void pop() {
        topLeft = left[0];
        topRight = right[0];
        topSize = size[0];
        int last = --count;
        if (last == 0) return;
        double k = key[last];
        int l = left[last], r = right[last], s = size[last];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && before(key[child + 1], left[child + 1], key[child], left[child])) child++;
            if (!before(key[child], left[child], k, l)) break;
            move(child, i);
            i = child;
        }
        set(i, k, l, r, s);
    }

    private static boolean before(double k1, int l1, double k2, int l2) {
        return k1 < k2 || (k1 == k2 && l1 < l2);
    }

    private void move(int from, int to) {
        set(to, key[from], left[from], right[from], size[from]);
    }

    private void set(int i, double k, int l, int r, int s) {
        key[i] = k;
        left[i] = l;
        right[i] = r;
        size[i] = s;
    }
}
