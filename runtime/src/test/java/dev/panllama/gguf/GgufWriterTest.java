package dev.panllama.gguf;

import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufWriterTest {

    @Test
    void allThirteenValueTypesRoundTrip(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("all.gguf");
        GgufWriter w = new GgufWriter(64)
                .put("u8", GgufValueType.UINT8, 250L)
                .put("i8", GgufValueType.INT8, -5L)
                .put("u16", GgufValueType.UINT16, 65535L)
                .put("i16", GgufValueType.INT16, -300L)
                .put("u32", GgufValueType.UINT32, 4294967295L)
                .put("i32", GgufValueType.INT32, -7L)
                .put("f32", GgufValueType.FLOAT32, 1.5f)
                .put("bool", GgufValueType.BOOL, true)
                .put("str", GgufValueType.STRING, "héllo ▁wörld")
                .put("u64", GgufValueType.UINT64, -1L)
                .put("i64", GgufValueType.INT64, Long.MIN_VALUE)
                .put("f64", GgufValueType.FLOAT64, Math.PI)
                .putArray("arr.str", GgufValueType.STRING, new String[]{"a", "", "ccc"})
                .putArray("arr.f32", GgufValueType.FLOAT32, new float[]{1f, -2f, 3.25f})
                .putArray("arr.i32", GgufValueType.INT32, new int[]{1, -2, 3})
                .putArray("arr.u8", GgufValueType.UINT8, new byte[]{(byte) 255, 0})
                .putArray("arr.bool", GgufValueType.BOOL, new boolean[]{true, false});
        w.addTensor("t0", GgmlType.F32, new long[]{4, 2}, MemorySegment.ofArray(new float[]{1, 2, 3, 4, 5, 6, 7, 8}));
        w.addTensor("t1", GgmlType.F16, new long[]{3}, dst -> {
            for (int i = 0; i < 3; i++) dst.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, Float.floatToFloat16(i + 0.5f));
        });
        w.write(out);

        try (MappedGguf g = MappedGguf.open(out)) {
            GgufMetadata m = g.metadata();
            assertThat(g.header().alignment()).isEqualTo(64);
            assertThat(m.getLong("u8")).isEqualTo(250);
            assertThat(m.getLong("i8")).isEqualTo(-5);
            assertThat(m.getLong("u16")).isEqualTo(65535);
            assertThat(m.getLong("i16")).isEqualTo(-300);
            assertThat(m.getLong("u32")).isEqualTo(4294967295L);
            assertThat(m.getLong("i32")).isEqualTo(-7);
            assertThat(m.getDouble("f32")).isEqualTo(1.5);
            assertThat(m.getBool("bool")).isTrue();
            assertThat(m.getString("str")).isEqualTo("héllo ▁wörld");
            assertThat(Long.toUnsignedString(m.getLong("u64"))).isEqualTo("18446744073709551615");
            assertThat(m.getLong("i64")).isEqualTo(Long.MIN_VALUE);
            assertThat(m.getDouble("f64")).isEqualTo(Math.PI);
            assertThat(m.getArray("arr.str").strings()).containsExactly("a", "", "ccc");
            assertThat(m.getArray("arr.f32").toFloatArray()).containsExactly(1f, -2f, 3.25f);
            assertThat(m.getArray("arr.i32").toIntArray()).containsExactly(1, -2, 3);
            assertThat(m.getArray("arr.u8").toLongArray()).containsExactly(255, 0);
            assertThat(m.getArray("arr.bool").toBooleanArray()).containsExactly(true, false);
            assertThat(g.tensor("t0").toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            assertThat(g.tensor("t1").toFloatArray()).containsExactly(0.5f, 1.5f, 2.5f);
            assertThat(g.header().tensors().get(1).dataOffset()).isEqualTo(64);
        }
    }

    @Test
    void arraysOfArraysRoundTrip(@TempDir Path dir) throws IOException {
        // Build [[1,2],[3]] as raw bytes of an ARRAY of INT32 arrays, then read it back.
        Path p = dir.resolve("aa.gguf");
        new GgufWriter().putArray("a", GgufValueType.INT32, new int[]{1, 2}).putArray("b", GgufValueType.INT32, new int[]{3}).write(p);
        Path q = dir.resolve("nested.gguf");
        try (MappedGguf g = MappedGguf.open(p)) {
            GgufArray a = g.metadata().getArray("a");
            GgufArray b = g.metadata().getArray("b");
            // An ARRAY element type is written as its own (type, count, elements): concatenate two arrays.
            byte[] raw = concat(header(a), a.rawBytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    header(b), b.rawBytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            GgufArray nested = new GgufArray(GgufValueType.ARRAY, 2, MemorySegment.ofArray(raw));
            new GgufWriter().put("nested", GgufValueType.ARRAY, nested).write(q);
        }
        try (MappedGguf g = MappedGguf.open(q)) {
            GgufArray[] inner = g.metadata().getArray("nested").arrays();
            assertThat(inner).hasSize(2);
            assertThat(inner[0].toIntArray()).containsExactly(1, 2);
            assertThat(inner[1].toIntArray()).containsExactly(3);
        }
    }

    private static byte[] header(GgufArray a) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.putInt(a.elementType().id()).putLong(a.size());
        return bb.array();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    /** Copying every entry and tensor of a llama.cpp-written file reproduces it byte for byte. */
    @Test
    void rewritingStories260KIsByteIdentical(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("copy.gguf");
        try (MappedGguf g = MappedGguf.open(TestFiles.stories260K())) {
            GgufWriter w = new GgufWriter();
            g.metadata().entries().forEach(w::copy);
            for (Tensor t : g.tensors()) w.addTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(out);
        }
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(TestFiles.stories260K()));
    }

    @Test
    void splitModelOpensAsOneFromAnyPart(@TempDir Path dir) throws IOException {
        try (MappedGguf g = MappedGguf.open(TestFiles.stories260K())) {
            var tensors = g.tensors();
            int parts = 3;
            int per = (tensors.size() + parts - 1) / parts;
            for (int p = 0; p < parts; p++) {
                GgufWriter w = new GgufWriter();
                if (p == 0) g.metadata().entries().forEach(w::copy);
                w.put(MappedGguf.KEY_SPLIT_NO, GgufValueType.UINT16, (long) p);
                w.put(MappedGguf.KEY_SPLIT_COUNT, GgufValueType.UINT16, (long) parts);
                w.put(MappedGguf.KEY_SPLIT_TENSORS, GgufValueType.INT32, (long) tensors.size());
                for (Tensor t : tensors.subList(p * per, Math.min(tensors.size(), (p + 1) * per))) {
                    w.addTensor(t.name(), t.type(), t.shape(), t.data());
                }
                w.write(dir.resolve(MappedGguf.splitFileName("stories", p + 1, parts)));
            }
            try (MappedGguf split = MappedGguf.open(dir.resolve("stories-00002-of-00003.gguf"))) {
                assertThat(split.files()).hasSize(3);
                assertThat(split.tensorCount()).isEqualTo(48);
                assertThat(split.metadata().getString("general.architecture")).isEqualTo("llama");
                for (Tensor t : tensors) {
                    assertThat(split.tensor(t.name()).data().mismatch(t.data())).as(t.name()).isEqualTo(-1);
                }
            }
            Files.delete(dir.resolve("stories-00003-of-00003.gguf"));
            assertThatThrownBy(() -> MappedGguf.open(dir.resolve("stories-00001-of-00003.gguf")))
                    .hasMessageContaining("stories-00003-of-00003.gguf");
        }
    }

    /** The file is renamed over the output at the end: a directory (or a device, a FIFO) must not be replaced. */
    @Test
    void refusesToReplaceWhatIsNotARegularFile(@TempDir Path dir) throws IOException {
        Path target = Files.createDirectory(dir.resolve("out.gguf"));
        GgufWriter w = new GgufWriter(32).put("k", GgufValueType.UINT32, 1L);
        assertThatThrownBy(() -> w.write(target)).isInstanceOf(IOException.class)
                .hasMessage(target + ": is a directory, not replacing it");
        assertThat(Files.isDirectory(target)).isTrue();
        Path missing = dir.resolve("none/out.gguf");
        assertThatThrownBy(() -> w.write(missing)).isInstanceOf(IOException.class)
                .hasMessage(missing + ": directory " + missing.getParent() + " does not exist");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(target);     // no .partial left behind
        }
    }
}
