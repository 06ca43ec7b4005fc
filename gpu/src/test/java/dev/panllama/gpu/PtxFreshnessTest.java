package dev.panllama.gpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shipped PTX is built from what gpu/src/main/cuda holds, and holds every kernel of
 * gpu/KERNELS.md. No GPU needed: it compares hashes, bytes and {@code .entry} lines. A failure is one
 * line naming the stale file and the fix, {@code gpu/build-ptx.sh}.
 */
class PtxFreshnessTest {

    private static final String FIX = "run gpu/build-ptx.sh";
    private static final String HASH_PREFIX = "// panllama-source-sha256: ";
    private static final String RESOURCES = "src/main/resources/dev/panllama/gpu/";

    /** The weight types of matvec.cu and dequant.cu, as KERNELS.md lists them. */
    private static final List<String> WEIGHT_TYPES =
            List.of("f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k", "iq4_xs");

    /** Module to the kernels KERNELS.md gives it. */
    private static Map<String, List<String>> kernels() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("matvec", WEIGHT_TYPES.stream().map(t -> "mv_" + t).toList());
        List<String> dq = new ArrayList<>(WEIGHT_TYPES.stream().map(t -> "dq_" + t + "_f16").toList());
        dq.add("f32_to_f16");
        m.put("dequant", dq);
        m.put("ops", List.of("rmsnorm_f32", "rope_f32", "swiglu_f32", "add_f32"));
        m.put("attention", List.of("attention_f32"));
        return m;
    }

    @Test
    void shippedPtxAndSourcesAreFreshAndHoldEveryKernel() throws IOException {
        Path gpu = gpuModule();
        Path src = gpu.resolve("src/main/cuda");
        Path ptxDir = gpu.resolve(RESOURCES + "ptx");
        List<String> problems = new ArrayList<>();

        TreeSet<String> sources = names(src, ".cu");
        if (!sources.equals(new TreeSet<>(kernels().keySet()))) {
            problems.add("gpu/src/main/cuda holds " + sources + " but KERNELS.md names " + kernels().keySet());
        }
        for (String stray : names(ptxDir, ".ptx")) {
            if (!sources.contains(stray)) problems.add(rel(ptxDir.resolve(stray + ".ptx")) + " has no source in gpu/src/main/cuda: delete it");
        }

        for (String name : sources) {
            Path cu = src.resolve(name + ".cu");
            byte[] source = Files.readAllBytes(cu);
            String text = new String(source, StandardCharsets.UTF_8);
            // NVRTC is handed the headers by name (CudaModules): only quoted names of files beside the sources
            java.io.ByteArrayOutputStream hashed = new java.io.ByteArrayOutputStream();
            hashed.writeBytes(source);
            for (String line : text.lines().filter(l -> l.strip().matches("#\\s*include.*")).toList()) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("#\\s*include\\s+\"([^\"/]+)\".*").matcher(line.strip());
                if (!m.matches() || !Files.isRegularFile(src.resolve(m.group(1)))) {
                    problems.add(rel(cu) + ": '" + line.strip() + "' is not a quoted name of a file in gpu/src/main/cuda, which NVRTC could not be handed");
                } else {
                    hashed.writeBytes(Files.readAllBytes(src.resolve(m.group(1))));
                }
            }

            Path ptx = ptxDir.resolve(name + ".ptx");
            if (!Files.exists(ptx)) {
                problems.add(rel(ptx) + " is missing: " + FIX);
                continue;
            }
            String ptxText = Files.readString(ptx, StandardCharsets.UTF_8);
            String firstLine = ptxText.lines().findFirst().orElse("");
            if (!firstLine.equals(HASH_PREFIX + sha256(hashed.toByteArray()))) {
                problems.add(rel(ptx) + " is stale (its first line is not the sha256 of " + rel(cu) + " and its headers): " + FIX);
            }

            for (String kernel : kernels().getOrDefault(name, List.of())) {
                if (!ptxText.contains(".entry " + kernel + "(")) {
                    problems.add(rel(ptx) + " has no .entry " + kernel + " (a kernel of gpu/KERNELS.md)");
                }
            }
        }
        if (!problems.isEmpty()) fail(String.join("; ", problems));
    }

    @Test
    void kernelListAgreesWithKernelsMd() throws IOException {
        String md = Files.readString(gpuModule().resolve("KERNELS.md"), StandardCharsets.UTF_8);
        List<String> problems = new ArrayList<>();
        if (!md.contains("`" + String.join(" ", WEIGHT_TYPES) + "`")) {
            problems.add("gpu/KERNELS.md does not list the weight types `" + String.join(" ", WEIGHT_TYPES)
                    + "`: update PtxFreshnessTest.WEIGHT_TYPES with it");
        }
        for (String k : List.of("mv_<type>", "dq_<type>_f16", "f32_to_f16", "rmsnorm_f32", "rope_f32", "swiglu_f32",
                "add_f32", "attention_f32")) {
            if (!md.contains(k)) problems.add("gpu/KERNELS.md no longer names " + k + ": update PtxFreshnessTest.kernels()");
        }
        if (!problems.isEmpty()) fail(String.join("; ", problems));
    }

    /** matvec.cu and dequant.cu take their block decoders from blocks.cuh, neither keeps a copy. */
    @Test
    void matvecAndDequantShareTheirBlockDecoders() throws IOException {
        Path src = gpuModule().resolve("src/main/cuda");
        for (String name : List.of("matvec.cu", "dequant.cu")) {
            String text = Files.readString(src.resolve(name), StandardCharsets.UTF_8);
            if (!text.contains("#include \"blocks.cuh\"")) fail("gpu/src/main/cuda/" + name + " does not include blocks.cuh");
            if (text.contains("struct Q4_K")) fail("gpu/src/main/cuda/" + name + " defines a block decoder of its own: it belongs in blocks.cuh");
        }
    }

    private static TreeSet<String> names(Path dir, String suffix) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        if (!Files.isDirectory(dir)) return names;
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(suffix))
                    .forEach(f -> names.add(f.substring(0, f.length() - suffix.length())));
        }
        return names;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The gpu module: under the repository root surefire passes as panllama.root, else found from the working directory. */
    private static Path gpuModule() {
        String root = System.getProperty("panllama.root");
        if (root != null && Files.isRegularFile(Path.of(root, "gpu", "KERNELS.md"))) {
            return Path.of(root, "gpu").toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("gpu/KERNELS.md"))) return dir.resolve("gpu").normalize();
            if (Files.isRegularFile(dir.resolve("KERNELS.md")) && dir.getFileName().toString().equals("gpu")) return dir;
        }
        throw new IllegalStateException("cannot find gpu/KERNELS.md above " + Path.of("").toAbsolutePath());
    }

    /** A path as the repository names it, e.g. gpu/src/main/cuda/matvec.cu. */
    private static String rel(Path p) {
        Path gpu = gpuModule();
        return "gpu/" + gpu.relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }
}
