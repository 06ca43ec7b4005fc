package dev.panllama.convert;

import dev.panllama.safetensors.SafetensorsTensor;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * The rows of one GGUF tensor read from Hugging Face tensors: one tensor, or one per expert stacked
 * along a new outer dimension; each row decoded from the source row the permutation names, then
 * multiplied by its FP8 scales when there are any. A 1-d tensor (a bias) is one row whose elements
 * are permuted instead.
 */
final class HfRows implements FloatRows {
    private final List<SafetensorsTensor> parts;
    private final ScaleGrid scales;
    private final LongUnaryOperator sourceRow;
    private final boolean permuted;
    private final boolean vector;
    private final int rowLength;
    private final long rowsPerPart;

    /**
     * @param scales    null for float weights
     * @param sourceRow GGUF row (or element of a vector) to source row, within one part; null for none
     */
    HfRows(List<SafetensorsTensor> parts, ScaleGrid scales, LongUnaryOperator sourceRow) {
        SafetensorsTensor first = parts.getFirst();
        this.parts = List.copyOf(parts);
        this.scales = scales;
        this.sourceRow = sourceRow != null ? sourceRow : LongUnaryOperator.identity();
        this.permuted = sourceRow != null;
        this.vector = first.rank() <= 1;
        this.rowLength = Math.toIntExact(vector ? Math.max(first.elementCount(), 1) : first.rowLength());
        this.rowsPerPart = vector ? 1 : first.elementCount() / first.rowLength();
    }

    @Override
    public int rowLength() { return rowLength; }

    @Override
    public long rows() { return rowsPerPart * parts.size(); }

    @Override
    public void read(long r, float[] dst) {
        int part = (int) (r / rowsPerPart);
        SafetensorsTensor t = parts.get(part);
        if (vector) {
            if (t.elementCount() == 0) return;
            t.decode(0, dst, 0, rowLength);
            if (permuted) permuteElements(dst);
            return;
        }
        long src = sourceRow.applyAsLong(r % rowsPerPart);
        t.decode(src * rowLength, dst, 0, rowLength);
        if (scales != null) scales.applyToRow(part, src, dst);
    }

    private void permuteElements(float[] x) {
        float[] copy = x.clone();
        for (int i = 0; i < rowLength; i++) x[i] = copy[(int) sourceRow.applyAsLong(i)];
    }

    /** Copies the raw bytes of GGUF row r (1-byte elements: FP8). */
    void copyRawRow(long r, MemorySegment dst, long dstOffset) {
        int part = (int) (r / rowsPerPart);
        long src = sourceRow.applyAsLong(r % rowsPerPart);
        MemorySegment.copy(parts.get(part).data(), src * rowLength, dst, dstOffset, rowLength);
    }
}
