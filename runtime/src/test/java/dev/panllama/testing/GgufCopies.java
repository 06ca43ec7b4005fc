package dev.panllama.testing;

import dev.panllama.gguf.GgufEntry;
import dev.panllama.gguf.GgufWriter;
import dev.panllama.gguf.MappedGguf;
import dev.panllama.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Copies of a GGUF file with edited metadata (e.g. a chat template or another EOS token), for tests. */
public final class GgufCopies {
    private GgufCopies() {}

    /** Writes {@code out}: {@code source}'s metadata and tensors, then {@code edit} applied to the metadata. */
    public static Path withMetadata(Path source, Path out, Consumer<GgufWriter> edit) throws IOException {
        try (MappedGguf in = MappedGguf.open(source)) {
            GgufWriter w = new GgufWriter();
            for (GgufEntry e : in.metadata().entries()) {
                if (!e.key().equals("general.alignment")) w.copy(e);
            }
            edit.accept(w);
            for (Tensor t : in.tensors()) w.addTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(out);
        }
        return out;
    }
}
