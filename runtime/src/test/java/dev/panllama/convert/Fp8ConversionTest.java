package dev.panllama.convert;

import dev.panllama.gguf.GgufLoadOptions;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.gguf.TensorSource;
import dev.panllama.model.Model;
import dev.panllama.model.ModelFiles;
import dev.panllama.model.ModelOptions;
import dev.panllama.model.Session;
import dev.panllama.safetensors.SafetensorsCheckpoint;
import dev.panllama.safetensors.SafetensorsDType;
import dev.panllama.safetensors.SafetensorsTensor;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;

import static dev.panllama.convert.SyntheticHfCheckpoint.Scales;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * FP8 checkpoints in all three scale layouts: loaded as Q8_0 with the scales folded in, written as FP8
 * GGUF and loaded back, and re-encoded. The expected weights are computed here straight from the
 * definitions (w = fp8 x scale of the weight's tile; llama's q/k permutation as numpy's reshape and
 * swapaxes), then quantized with the Q8_0 codec; every byte must agree.
 */
class Fp8ConversionTest {
    /** FFN rows not a multiple of 128: the last block tile is partial. */
    private static final int FF = 320;
    private static final Map<String, String> LINEARS = Map.of(
            "blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj",
            "blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj",
            "blk.0.attn_v.weight", "model.layers.0.self_attn.v_proj",
            "blk.0.attn_output.weight", "model.layers.0.self_attn.o_proj",
            "blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj",
            "blk.0.ffn_up.weight", "model.layers.0.mlp.up_proj",
            "blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj");

    private static Path vocab() {
        return TestFiles.stories260K();
    }

    @ParameterizedTest
    @EnumSource(Scales.class)
    void loadsEveryScaleLayoutAsQ8_0OfTheScaledWeights(Scales scales, @TempDir Path dir) throws IOException {
        SyntheticHfCheckpoint.llama(256, FF, 1, 512, scales).write(dir);
        try (TensorSource src = ModelFiles.open(dir, GgufLoadOptions.INSPECT, 2, vocab());
             SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            for (Map.Entry<String, String> e : LINEARS.entrySet()) {
                Tensor t = src.tensor(e.getKey());
                assertThat(t.type()).as(e.getKey()).isEqualTo(GgmlType.Q8_0);
                assertQ8_0Matches(t, expectedWeights(ckpt, e.getValue(), scales, headsFor(e.getKey(), 4, 2)));
            }
            assertThat(src.tensor("token_embd.weight").type()).isEqualTo(GgmlType.BF16);
            assertThat(bytes(src.tensor("token_embd.weight")))
                    .isEqualTo(ckpt.tensor("model.embed_tokens.weight").data().toArray(ValueLayout.JAVA_BYTE));
            assertThat(src.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(src.hasTensor("blk.0.attn_q.weight_scale")).isFalse();
        }
    }

    @ParameterizedTest
    @EnumSource(Scales.class)
    void fp8GgufKeepsTheBytesAndConvertsLikeTheCheckpoint(Scales scales, @TempDir Path dir) throws IOException {
        Path hf = dir.resolve("hf");
        SyntheticHfCheckpoint.llama(256, FF, 1, 512, scales).write(hf);
        Path fp8 = dir.resolve("fp8.gguf");
        GgufConverter.convert(hf, fp8, OutType.FP8, vocab(), 2, dev.panllama.util.ProgressListener.NONE);
        try (MappedGguf g = MappedGguf.open(fp8)) {
            Tensor q = g.tensor("blk.0.attn_q.weight");
            assertThat(q.type()).isEqualTo(GgmlType.F8_E4M3);
            assertThat(q.shape()).containsExactly(256, 256);
            long[] scaleShape = switch (scales) {
                case BLOCK -> new long[]{2, 2};
                case TENSOR -> new long[]{1, 1};
                case CHANNEL -> new long[]{1, 256};
            };
            assertThat(g.tensor("blk.0.attn_q.scale").shape()).containsExactly(scaleShape);
            assertThat(g.tensor("blk.0.ffn_down.scale").type()).isEqualTo(GgmlType.F32);
            assertThat(g.metadata().contains(Fp8Gguf.BLOCK_KEY)).isEqualTo(scales == Scales.BLOCK);
            assertThat(g.metadata().contains("general.file_type")).isFalse();
            assertThat(g.tensor("token_embd.weight").type()).isEqualTo(GgmlType.BF16);
            assertThat(g.hasTensor("blk.0.attn_q.input_scale")).isFalse();
        }
        Path q8 = dir.resolve("q8.gguf");
        GgufConverter.convert(fp8, q8, OutType.Q8_0, null, 2, dev.panllama.util.ProgressListener.NONE);
        try (TensorSource fromDir = ModelFiles.open(hf, GgufLoadOptions.INSPECT, 2, vocab());
             TensorSource fromFp8 = ModelFiles.open(fp8, GgufLoadOptions.INSPECT, 1, null);
             MappedGguf requantized = MappedGguf.open(q8)) {
            assertThat(fromFp8.hasTensor("blk.0.attn_q.scale")).isFalse();
            assertThat(requantized.metadata().getInt("general.file_type")).isEqualTo(7);
            for (String name : LINEARS.keySet()) {
                Tensor want = fromDir.tensor(name);
                assertThat(bytes(fromFp8.tensor(name))).as(name).isEqualTo(bytes(want));
                assertThat(bytes(requantized.tensor(name))).as(name).isEqualTo(bytes(want));
            }
        }
    }

    @Test
    void e5m2WeightsLoadLikewise(@TempDir Path dir, @TempDir Path outDir) throws IOException {
        SyntheticHfCheckpoint.llama(256, FF, 1, 512, Scales.BLOCK).withFp8(SafetensorsDType.F8_E5M2).write(dir);
        try (TensorSource src = ModelFiles.open(dir, GgufLoadOptions.INSPECT, 2, vocab());
             SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertQ8_0Matches(src.tensor("blk.0.ffn_up.weight"), expectedWeights(ckpt, "model.layers.0.mlp.up_proj", Scales.BLOCK, 0));
            assertQ8_0Matches(src.tensor("blk.0.attn_k.weight"), expectedWeights(ckpt, "model.layers.0.self_attn.k_proj", Scales.BLOCK, 2));
        }
        // E5M2 has no GGUF type: --outtype fp8 keeps such weights in BF16.
        Path out = outDir.resolve("e5m2.gguf");
        GgufConverter.convert(dir, out, OutType.FP8, vocab(), 1, dev.panllama.util.ProgressListener.NONE);
        try (MappedGguf g = MappedGguf.open(out)) {
            assertThat(g.tensor("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.BF16);
        }
    }

    @Test
    void shardedQwen3MoeStacksItsExpertsWithTheirScales(@TempDir Path dir) throws IOException {
        SyntheticHfCheckpoint c = SyntheticHfCheckpoint.llama(256, 128, 2, 512, Scales.BLOCK).moe(4).withShards(2);
        c.write(dir);
        try (TensorSource src = ModelFiles.open(dir, GgufLoadOptions.INSPECT, 2, vocab());
             SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertThat(ckpt.files()).hasSize(2);
            assertThat(src.metadata().getString("general.architecture")).isEqualTo("qwen3moe");
            assertThat(src.metadata().getInt("qwen3moe.expert_count")).isEqualTo(4);
            assertThat(src.metadata().getInt("qwen3moe.expert_feed_forward_length")).isEqualTo(128);
            Tensor gate = src.tensor("blk.1.ffn_gate_exps.weight");
            assertThat(gate.shape()).containsExactly(256, 128, 4);
            Tensor down = src.tensor("blk.1.ffn_down_exps.weight");
            assertThat(down.shape()).containsExactly(128, 256, 4);
            float[][] want = new float[4 * 256][];
            for (int e = 0; e < 4; e++) {
                float[][] rows = expectedWeights(ckpt, "model.layers.1.mlp.experts." + e + ".down_proj", Scales.BLOCK, 0);
                System.arraycopy(rows, 0, want, e * 256, 256);
            }
            assertQ8_0Matches(down, want);
            assertThat(src.tensor("blk.0.ffn_gate_inp.weight").shape()).containsExactly(256, 4);
            assertThat(src.tensor("blk.0.attn_q_norm.weight").shape()).containsExactly(64);
        }
        try (Model m = Model.load(dir, ModelOptions.DEFAULTS.withThreads(1).withContextLength(16), vocab());
             Session s = m.newSession()) {
            assertThat(m.config().expertCount()).isEqualTo(4);
            float[] logits = s.evaluate(1, 403, 407);
            assertThat(logits).hasSize(512);
            for (float v : logits) assertThat(v).isFinite();
        }
    }

    @Test
    void blockScalesCannotStayFp8WhenHeadsStraddleTiles(@TempDir Path dir) throws IOException {
        // Heads of 192 rows: the q/k permutation moves rows between 128-row scale tiles.
        Path hf = dir.resolve("hf");
        SyntheticHfCheckpoint.llama(384, 256, 1, 512, Scales.BLOCK).withHeads(2, 2).write(hf);
        assertThatThrownBy(() -> GgufConverter.convert(hf, dir.resolve("x.gguf"), OutType.FP8, vocab(), 1,
                dev.panllama.util.ProgressListener.NONE))
                .hasMessageContaining("blk.0.attn_q.weight").hasMessageContaining("across 128-row scale tiles");
        try (TensorSource src = ModelFiles.open(hf, GgufLoadOptions.INSPECT, 2, vocab());
             SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(hf)) {
            assertQ8_0Matches(src.tensor("blk.0.attn_q.weight"), expectedWeights(ckpt, "model.layers.0.self_attn.q_proj", Scales.BLOCK, 2));
        }
    }

    @Test
    void badCheckpointsFailWithAMessage(@TempDir Path dir) throws IOException {
        SyntheticHfCheckpoint.llama(256, FF, 1, 512, Scales.BLOCK).write(dir);
        assertThatThrownBy(() -> ModelFiles.open(dir, GgufLoadOptions.INSPECT, 1, null))
                .hasMessageContaining("no tokenizer.json").hasMessageContaining("--vocab-from");
        assertThatThrownBy(() -> ModelFiles.open(dir, GgufLoadOptions.INSPECT, 1, TestFiles.bundled("llama.cpp-vocab/ggml-vocab-gpt-2.gguf")))
                .hasMessageContaining("tokens but the model's vocabulary is 512");
        java.nio.file.Files.writeString(dir.resolve("config.json"),
                java.nio.file.Files.readString(dir.resolve("config.json")).replace("\"fp8\"", "\"gptq\""));
        assertThatThrownBy(() -> ModelFiles.open(dir, GgufLoadOptions.INSPECT, 1, vocab()))
                .hasMessageContaining("quant_method 'gptq' is not supported");
        java.nio.file.Files.writeString(dir.resolve("config.json"),
                java.nio.file.Files.readString(dir.resolve("config.json")).replace("\"gptq\"", "\"fp8\"").replace("128, 128", "64, 64")
                        .replaceAll("\\[\\s*128,\\s*128\\s*]", "[64, 64]"));
        assertThatThrownBy(() -> ModelFiles.open(dir, GgufLoadOptions.INSPECT, 1, vocab()))
                .hasMessageContaining("weight_scale_inv").hasMessageContaining("blocks of 64");
    }

    /** The heads argument of llama's permutation for a GGUF tensor name, 0 for none. */
    private static int headsFor(String name, int heads, int kvHeads) {
        return name.contains("attn_q.") ? heads : name.contains("attn_k.") ? kvHeads : 0;
    }

    /**
     * The weights of a Hugging Face linear layer in GGUF row order: FP8 decoded, times the scale of its
     * tile, rows permuted as llama.cpp's {@code reshape(n_head, 2, d/2, in).swapaxes(1, 2)} when
     * {@code heads > 0}.
     */
    static float[][] expectedWeights(SafetensorsCheckpoint ckpt, String module, Scales layout, int heads) {
        SafetensorsTensor w = ckpt.tensor(module + ".weight");
        int out = (int) w.dim(0);
        int in = (int) w.dim(1);
        float[] scale = ckpt.find(module + (layout == Scales.BLOCK ? ".weight_scale_inv" : ".weight_scale")).orElseThrow().toFloatArray();
        int[] source = new int[out];
        for (int r = 0; r < out; r++) source[r] = r;
        if (heads > 0) {
            int half = out / heads / 2;
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < half; i++)
                    for (int j = 0; j < 2; j++) source[(h * half + i) * 2 + j] = (h * 2 + j) * half + i;
        }
        int colBlocks = (in + 127) / 128;
        float[][] rows = new float[out][in];
        float[] raw = new float[in];
        for (int r = 0; r < out; r++) {
            int s = source[r];
            w.decode((long) s * in, raw, 0, in);
            for (int c = 0; c < in; c++) {
                float k = switch (layout) {
                    case TENSOR -> scale[0];
                    case CHANNEL -> scale[s];
                    case BLOCK -> scale[(s / 128) * colBlocks + c / 128];
                };
                rows[r][c] = raw[c] * k;
            }
        }
        return rows;
    }

    /** Every Q8_0 block of {@code t} equals the Q8_0 codec's encoding of the expected rows. */
    static void assertQ8_0Matches(Tensor t, float[][] rows) {
        assertThat(t.type()).isEqualTo(GgmlType.Q8_0);
        assertThat(t.rows()).isEqualTo(rows.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment want = arena.allocate(t.rowBytes());
            for (int r = 0; r < rows.length; r++) {
                GgmlType.Q8_0.codec().quantize(rows[r], 0, want, 0, rows[r].length);
                MemorySegment got = t.data().asSlice(r * t.rowBytes(), t.rowBytes());
                assertThat(got.mismatch(want)).as("%s row %d", t.name(), r).isEqualTo(-1L);
            }
        }
    }

    private static byte[] bytes(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }
}
