package dev.panllama.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsCheckpointTest {

    private static final float[] VALUES = {1f, -2f, 0.5f, 3.25f, 0f, -0.125f};

    @Test
    void readsEveryDtypeOfASingleFile(@TempDir Path dir) throws IOException {
        byte[] e4m3 = {0x38, (byte) 0xB8, 0x7E, 0x01};        // 1, -1, 448, 2^-9
        byte[] e5m2 = {0x3C, (byte) 0xBC, 0x7B, 0x01};        // 1, -1, 57344, 2^-16
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x00, (byte) 0xC0}; // 1, -2
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xB8};         // 1, -0.5
        new SafetensorsWriter()
                .addF32("a.f32", new long[]{2, 3}, VALUES)
                .add("b.e4m3", SafetensorsDType.F8_E4M3, new long[]{4}, e4m3)
                .add("c.e5m2", SafetensorsDType.F8_E5M2, new long[]{2, 2}, e5m2)
                .add("d.bf16", SafetensorsDType.BF16, new long[]{2}, bf16)
                .add("e.f16", SafetensorsDType.F16, new long[]{2}, f16)
                .add("f.i64", SafetensorsDType.I64, new long[]{1}, new byte[]{7, 0, 0, 0, 0, 0, 0, 0})
                .add("g.empty", SafetensorsDType.I8, new long[]{0, 4}, new byte[0])
                .add("h.scalar", SafetensorsDType.F32, new long[]{}, new byte[]{0, 0, (byte) 0x80, 0x3F})
                .write(dir.resolve("model.safetensors"));
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.names()).containsExactly("a.f32", "b.e4m3", "c.e5m2", "d.bf16", "e.f16", "f.i64", "g.empty", "h.scalar");
            assertThat(c.tensor("a.f32").toFloatArray()).containsExactly(VALUES);
            assertThat(c.tensor("a.f32").shape()).containsExactly(2, 3);
            assertThat(c.tensor("a.f32").rowLength()).isEqualTo(3);
            assertThat(c.tensor("b.e4m3").toFloatArray()).containsExactly(1f, -1f, 448f, 0x1p-9f);
            assertThat(c.tensor("c.e5m2").toFloatArray()).containsExactly(1f, -1f, 57344f, 0x1p-16f);
            assertThat(c.tensor("d.bf16").toFloatArray()).containsExactly(1f, -2f);
            assertThat(c.tensor("e.f16").toFloatArray()).containsExactly(1f, -0.5f);
            assertThat(c.tensor("f.i64").data().byteSize()).isEqualTo(8);
            assertThat(c.tensor("g.empty").elementCount()).isZero();
            assertThat(c.tensor("h.scalar").toFloatArray()).containsExactly(1f);
            assertThat(c.find("nope")).isEmpty();
        }
    }

    @Test
    void readsShardsThroughTheIndex(@TempDir Path dir) throws IOException {
        new SafetensorsWriter().addF32("x", new long[]{2}, new float[]{1, 2}).addF32("y", new long[]{1}, new float[]{3})
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().addF32("z", new long[]{1}, new float[]{4}).write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), """
                {"metadata": {"total_size": 16}, "weight_map": {
                  "z": "model-00002-of-00002.safetensors",
                  "x": "model-00001-of-00002.safetensors",
                  "y": "model-00001-of-00002.safetensors"}}""");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.files()).hasSize(2);
            assertThat(c.names()).containsExactlyInAnyOrder("x", "y", "z");
            assertThat(c.tensor("z").toFloatArray()).containsExactly(4f);
            assertThat(c.tensor("y").file().getFileName().toString()).isEqualTo("model-00001-of-00002.safetensors");
        }
    }

    @Test
    void indexAndShardsMustAgree(@TempDir Path dir) throws IOException {
        new SafetensorsWriter().addF32("x", new long[]{1}, new float[]{1}).write(dir.resolve("a.safetensors"));
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), """
                {"weight_map": {"x": "a.safetensors", "w": "a.safetensors"}}""");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(SafetensorsCheckpoint.INDEX).hasMessageContaining("weight_map.w")
                .hasMessageContaining("has no such tensor");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), """
                {"weight_map": {"x": "../a.safetensors"}}""");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("weight_map.x").hasMessageContaining("is not a file name");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX), "{\"weight_map\": ");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("invalid JSON");
    }

    @Test
    void theSameTensorInTwoShardsIsAnError(@TempDir Path dir) throws IOException {
        new SafetensorsWriter().addF32("x", new long[]{1}, new float[]{1}).write(dir.resolve("a.safetensors"));
        new SafetensorsWriter().addF32("x", new long[]{1}, new float[]{2}).write(dir.resolve("b.safetensors"));
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).hasMessageContaining("b.safetensors")
                .hasMessageContaining("tensor 'x'").hasMessageContaining("also present in a.safetensors");
    }

    /** Each hostile header fails with the file and the field named, before anything it declares is allocated. */
    @Test
    void hostileHeadersFailWithTheFieldNamed(@TempDir Path dir) throws IOException {
        String ok = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        expect(dir, Long.MAX_VALUE, ok, 8, "header length");
        expect(dir, -1L, ok, 8, "header length");                                   // 2^64 - 1 as unsigned
        expect(dir, 1L << 40, ok, 8, "header length");
        expect(dir, ok.length() + 100, ok, 8, "header length");                     // runs past the end of the file
        expect(dir, -2, "{", 0, "header length");
        expect(dir, 5, "{\"t\":", 0, "invalid JSON");
        expect(dir, 0, "[1, 2]", 0, "is not a JSON object");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"t\":{}}", 8, "invalid JSON");
        expect(dir, 0, "{\"t\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 't'.dtype");
        expect(dir, 0, "{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 't'.dtype");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "tensor 't'.shape[0]");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,8]}}", 8, "tensor 't'.shape[0]");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8, "tensor 't'.shape");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, "tensor 't'.shape");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,9223372036854775807]}}", 8, "tensor 't'.data_offsets");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "tensor 't'.data_offsets");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "tensor 't'.data_offsets");
        expect(dir, 0, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "tensor 't'.data_offsets");
        expect(dir, 0, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8, "overlaps tensor 'a'");
        expect(dir, 0, "{\"__metadata__\":{\"format\":7}}", 0, "__metadata__.format");
        expect(dir, 0, "{\"t\":[]}", 0, "tensor 't'");
    }

    @Test
    void tooShortAFileIsNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[]{1, 2, 3});
        assertThatThrownBy(() -> open(f)).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining("short.safetensors").hasMessageContaining("too short");
    }

    /** Writes a file whose header is {@code text} (its length declared as {@code declared}, or the true length for 0). */
    private static void expect(Path dir, long declared, String text, int dataBytes, String message) throws IOException {
        Path f = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(f, declared != 0 ? declared : text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, text, dataBytes);
        assertThatThrownBy(() -> open(f)).as(text).isInstanceOf(SafetensorsFormatException.class)
                .hasMessageStartingWith(f.toString()).hasMessageContaining(message);
    }

    private static void open(Path f) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile.open(f, arena);
        }
    }
}
