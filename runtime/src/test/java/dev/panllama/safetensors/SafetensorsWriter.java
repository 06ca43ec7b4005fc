package dev.panllama.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes safetensors files for tests and synthetic checkpoints: header JSON padded with spaces to
 * 8 bytes (as the reference writer does), then each tensor's bytes, produced into the mapped output
 * by a callback so that files of any size stream.
 */
public final class SafetensorsWriter {
    /** Produces a tensor's bytes into {@code dst} (exactly its size). */
    @FunctionalInterface
    public interface Filler {
        void fill(MemorySegment dst);
    }

    private record Entry(String name, SafetensorsDType dtype, long[] shape, Filler filler) {
        long bytes() {
            long n = dtype.byteSize();
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public SafetensorsWriter add(String name, SafetensorsDType dtype, long[] shape, Filler filler) {
        entries.add(new Entry(name, dtype, shape.clone(), filler));
        return this;
    }

    public SafetensorsWriter add(String name, SafetensorsDType dtype, long[] shape, byte[] bytes) {
        return add(name, dtype, shape, dst -> MemorySegment.copy(bytes, 0, dst, ValueLayout.JAVA_BYTE, 0, bytes.length));
    }

    public SafetensorsWriter addF32(String name, long[] shape, float[] values) {
        return add(name, SafetensorsDType.F32, shape, dst -> MemorySegment.copy(values, 0, dst,
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length));
    }

    public List<String> names() {
        return entries.stream().map(Entry::name).toList();
    }

    public void write(Path file) throws IOException {
        ObjectNode header = JsonMapper.builder().build().createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name);
            t.put("dtype", e.dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + e.bytes());
            offset += e.bytes();
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        long total = 8 + padded + offset;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofShared()) {
            MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
            out.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, padded);
            MemorySegment.copy(json, 0, out, ValueLayout.JAVA_BYTE, 8, json.length);
            for (int i = json.length; i < padded; i++) out.set(ValueLayout.JAVA_BYTE, 8 + i, (byte) ' ');
            long at = 8 + padded;
            for (Entry e : entries) {
                e.filler.fill(out.asSlice(at, e.bytes()));
                at += e.bytes();
            }
            out.force();
        }
    }

    /** Writes raw bytes as a "safetensors" file: a header length, the header text, and {@code dataBytes} zero bytes. */
    public static void writeRaw(Path file, long declaredHeaderLength, String headerText, int dataBytes) throws IOException {
        byte[] json = headerText.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(declaredHeaderLength).put(json);
        java.nio.file.Files.write(file, bb.array());
    }
}
