package dev.panllama.convert;

/**
 * A tensor seen as rows of floats in GGUF order (row r holds elements [r*ne0, (r+1)*ne0)), decoded
 * on demand from wherever it lives, with scales applied and rows permuted as the conversion needs.
 * {@link #read} is called from many threads at once.
 */
public interface FloatRows {
    int rowLength();

    long rows();

    /** Decodes row {@code r} into {@code dst[0, rowLength())}. */
    void read(long r, float[] dst);
}
