package dev.panllama.convert;

import dev.panllama.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One tensor of a conversion's output and how its bytes are made from a {@link SourceTensor}: copied
 * as they are, encoded from float rows, or, for an FP8 GGUF, the E4M3 bytes and the scale tensor.
 */
public record OutputTensor(String name, GgmlType type, long[] shape, SourceTensor source, Kind kind, ScaleGrid scales) {

    enum Kind { COPY, ENCODE, FP8_BYTES, FP8_SCALES }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Rows of FP8 bytes per copy task. */
    private static final long COPY_ROWS = 256;

    public OutputTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public long byteSize() {
        long rows = 1;
        for (int i = 1; i < shape.length; i++) rows *= shape[i];
        return type.rowBytes(shape[0]) * rows;
    }

    /** The output of {@code sources} when written as {@code outType}; fails early on what cannot be written. */
    public static List<OutputTensor> plan(List<SourceTensor> sources, OutType outType) {
        List<OutputTensor> out = new ArrayList<>();
        for (SourceTensor s : sources) {
            GgmlType type = outType.typeFor(s);
            if (type == GgmlType.F8_E4M3) {
                ScaleGrid g = s.fp8().outputScales(s.name());
                out.add(new OutputTensor(s.name(), type, s.shape(), s, Kind.FP8_BYTES, null));
                long[] scaleShape = s.shape().length > 2 ? new long[]{g.colTiles(), g.rowTiles(), g.experts()} : new long[]{g.colTiles(), g.rowTiles()};
                out.add(new OutputTensor(Fp8Gguf.scaleName(s.name()), GgmlType.F32, scaleShape, s, Kind.FP8_SCALES, g));
            } else {
                boolean copy = s.asIs() != null && s.asIs().type() == type;
                out.add(new OutputTensor(s.name(), type, s.shape(), s, copy ? Kind.COPY : Kind.ENCODE, null));
            }
        }
        return out;
    }

    /** Writes the tensor's bytes into {@code dst} (exactly {@link #byteSize()} bytes), on the encoder's threads. */
    public void produce(MemorySegment dst, RowEncoder encoder) throws IOException {
        switch (kind) {
            case COPY -> {
                MemorySegment.copy(source.asIs().data(), 0, dst, 0, dst.byteSize());
                encoder.report(dst.byteSize());
            }
            case ENCODE -> encoder.encode(name, source.rows(), type, dst);
            case FP8_BYTES -> {
                long ne0 = shape[0];
                long rows = dst.byteSize() / ne0;
                Fp8Weight w = source.fp8();
                encoder.forEach(name, (rows + COPY_ROWS - 1) / COPY_ROWS, part -> {
                    long end = Math.min(rows, (part + 1) * COPY_ROWS);
                    for (long r = part * COPY_ROWS; r < end; r++) w.bytes().copy(r, dst, r * ne0);
                    return (end - part * COPY_ROWS) * ne0;
                });
            }
            case FP8_SCALES -> {
                float[] v = scales.values();
                MemorySegment.copy(v, 0, dst, F32_LE, 0, v.length);
                encoder.report(dst.byteSize());
            }
        }
    }
}
