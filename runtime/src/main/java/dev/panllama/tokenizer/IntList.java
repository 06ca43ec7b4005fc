package dev.panllama.tokenizer;

import java.util.Arrays;

/** A growable int array (token ids, segment lengths) without boxing. */
final class IntList {
    private int[] data;
    private int size;

    IntList() { this(16); }

    IntList(int capacity) { data = new int[Math.max(4, capacity)]; }

    void add(int v) {
        if (size == data.length) data = Arrays.copyOf(data, data.length * 2);
        data[size++] = v;
    }

    void addAll(int[] values) {
        if (size + values.length > data.length) data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
        System.arraycopy(values, 0, data, size, values.length);
        size += values.length;
    }

    int get(int i) { return data[i]; }

    int size() { return size; }

    boolean isEmpty() { return size == 0; }

    void truncate(int newSize) { size = newSize; }

    int last() { return data[size - 1]; }

    int[] toArray() { return Arrays.copyOf(data, size); }
}
