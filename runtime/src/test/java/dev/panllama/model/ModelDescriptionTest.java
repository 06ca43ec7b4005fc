package dev.panllama.model;

import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** llama_model_desc, llama_model_size and llama_model_n_params as llama-bench prints them. */
class ModelDescriptionTest {

    @Test
    void fileTypeComesFromTheMetadataOrIsGuessed() throws Exception {
        try (Model m = Model.load(TestFiles.bundled("zoo/zoo-llama-Q4_K.gguf"), ModelOptions.DEFAULTS)) {
            // llama-quantize --pure ... Q4_K writes file type 15; two layers match no size rule.
            ModelDescription d = ModelDescription.of(m);
            assertThat(d.toString()).isEqualTo("llama ?B Q4_K - Medium");
            assertThat(d.bytes()).isEqualTo(m.gguf().tensorBytes()).isLessThan(java.nio.file.Files.size(m.path()));
            assertThat(d.params()).isEqualTo(m.gguf().parameterCount());
        }
        try (Model m = Model.load(TestFiles.stories260K(), ModelOptions.DEFAULTS)) {
            // No general.file_type: most tensors are F32, as llama.cpp's loader guesses.
            assertThat(ModelDescription.of(m).toString()).isEqualTo("llama ?B all F32 (guessed)");
            assertThat(ModelDescription.of(m).params()).isEqualTo(292_800);
        }
    }

    @Test
    void sizeLabelsFollowLlamaCppsRules() {
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 16, 2048, 32, 8, 32000))).isEqualTo("1B");   // bench-1b
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 32, 4096, 32, 32, 32000))).isEqualTo("7B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 32, 4096, 32, 8, 128256))).isEqualTo("8B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 80, 8192, 64, 8, 32000))).isEqualTo("70B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 80, 8192, 64, 64, 32000))).isEqualTo("65B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.QWEN3, 28, 1024, 16, 8, 151936))).isEqualTo("0.6B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.QWEN3MOE, 48, 2048, 32, 4, 151936))).isEqualTo("30B.A3B");
        assertThat(ModelDescription.sizeLabel(config(Architecture.LLAMA, 5, 64, 8, 4, 512))).isEqualTo("?B");
        assertThat(ModelDescription.fileTypeName(2)).isEqualTo("Q4_0");
        assertThat(ModelDescription.fileTypeName(30)).isEqualTo("IQ4_XS - 4.25 bpw");
        assertThat(ModelDescription.fileTypeName(99)).isEqualTo("unknown, may not work");
    }

    private static ModelConfig config(Architecture arch, int layers, int embd, int heads, int headsKv, int vocab) {
        int headDim = embd / heads;
        return new ModelConfig(arch, "test", 4096, embd, layers, 4 * embd, heads, headsKv, headDim, headDim,
                1e-5f, headDim, 10000f, 1f, vocab, 0, 0, 0);
    }
}
