package dev.panllama.convert;

import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * panllama's FP8 GGUF (README, "FP8 GGUF"): a weight {@code NAME.weight} of type
 * {@link GgmlType#F8_E4M3} comes with an F32 tensor {@code NAME.scale} of shape
 * {@code [column tiles, row tiles(, experts)]}, and {@code w = fp8 * scale} over each tile. A scale
 * dimension of 1 covers the whole extent, one equal to the extent means one scale per row or column,
 * and any other count means blocks of {@value #BLOCK_KEY} ({@code [rows, cols]}, as config.json's
 * weight_block_size).
 */
public final class Fp8Gguf {
    public static final String BLOCK_KEY = "panllama.fp8.weight_block_size";
    public static final String SCALE_SUFFIX = ".scale";

    private Fp8Gguf() {}

    /** Whether the file holds FP8 weights. */
    public static boolean isFp8(MappedGguf gguf) {
        for (Tensor t : gguf.tensors()) if (t.type() == GgmlType.F8_E4M3) return true;
        return false;
    }

    /** The scale tensor name of an FP8 weight. */
    public static String scaleName(String weightName) {
        String base = weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - ".weight".length()) : weightName;
        return base + SCALE_SUFFIX;
    }

    /**
     * The file's tensors with each FP8 weight paired with its scales (its rows are fp8 x scale as floats,
     * ready for any quantizer), and the scale tensors consumed.
     */
    public static List<SourceTensor> tensors(MappedGguf gguf) {
        int[] block = {0, 0};
        gguf.metadata().findArray(BLOCK_KEY).ifPresent(a -> {
            int[] v = a.toIntArray();
            if (v.length != 2 || v[0] <= 0 || v[1] <= 0) {
                throw new IllegalArgumentException(gguf.displayName() + ": " + BLOCK_KEY + " must be two positive integers");
            }
            block[0] = v[0];
            block[1] = v[1];
        });
        java.util.Set<String> consumed = new java.util.HashSet<>();
        for (Tensor t : gguf.tensors()) if (t.type() == GgmlType.F8_E4M3) consumed.add(scaleName(t.name()));
        List<SourceTensor> out = new ArrayList<>();
        for (Tensor t : gguf.tensors()) {
            if (t.type() == GgmlType.F8_E4M3) {
                out.add(fp8(gguf, t, block));
            } else if (!consumed.contains(t.name())) {
                GgmlType lossless = t.type() == GgmlType.F16 || t.type() == GgmlType.BF16 ? t.type() : GgmlType.F32;
                out.add(new SourceTensor(t.name(), t.shape(), new TensorRows(t), lossless, t, null, false));
            }
        }
        return out;
    }

    private static SourceTensor fp8(MappedGguf gguf, Tensor w, int[] block) {
        String sn = scaleName(w.name());
        Tensor s = gguf.findTensor(sn).orElseThrow(() ->
                new IllegalArgumentException(gguf.displayName() + ": FP8 weight '" + w.name() + "' has no scale tensor '" + sn + "'"));
        if (s.type() != GgmlType.F32 || s.ne(2) != w.ne(2) || w.ne(3) != 1 || s.ne(3) != 1) {
            throw new IllegalArgumentException(gguf.displayName() + ": scale tensor " + s + " does not fit FP8 weight " + w);
        }
        long cols = w.ne(0);
        long rows = w.ne(1);
        int tileCols = ScaleGrid.tile(cols, s.ne(0), block[1], "scale '" + sn + "' columns");
        int tileRows = ScaleGrid.tile(rows, s.ne(1), block[0], "scale '" + sn + "' rows");
        ScaleGrid grid = new ScaleGrid(s.toFloatArray(), w.ne(2), rows, cols, tileRows, tileCols);
        int ne0 = Math.toIntExact(cols);
        MemorySegment data = w.data();
        FloatRows values = new FloatRows() {
            @Override public int rowLength() { return ne0; }
            @Override public long rows() { return w.rows(); }
            @Override public void read(long r, float[] dst) {
                w.dequantizeRow(r, dst, 0);
                grid.applyToRow(r / rows, r % rows, dst);
            }
        };
        Fp8Weight fp8 = new Fp8Weight((r, dst, off) -> MemorySegment.copy(data, r * ne0, dst, off, ne0), grid, LongUnaryOperator.identity());
        return new SourceTensor(w.name(), w.shape(), values, GgmlType.BF16, null, fp8, true);
    }

    /** Rows of a GGUF tensor decoded by its codec. */
    record TensorRows(Tensor t) implements FloatRows {
        @Override public int rowLength() { return Math.toIntExact(t.ne(0)); }
        @Override public long rows() { return t.rows(); }
        @Override public void read(long r, float[] dst) { t.dequantizeRow(r, dst, 0); }
    }
}
