package dev.panllama.gpu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Drives gpu/src/test/cuda/kernel_emulator.cpp: the real .cu kernels compiled for the CPU with g++ (see
 * cuda_emulation.h there). A test writes its inputs and a list of launches into a directory with this
 * class, {@link #compile}s the emulator, {@link #run}s the list and reads the outputs back.
 */
final class KernelEmulator {

    static final String CXX = "g++";

    /** The g++ flags: -ffp-contract=off keeps float operations apart as Java does; misaligned access is an error. */
    private static final List<String> FLAGS = List.of("-std=c++17", "-O1", "-ffp-contract=off", "-DPANLLAMA_HOST_EMULATION");
    private static final List<String> SANITIZE = List.of("-fsanitize=alignment", "-fno-sanitize-recover=alignment");

    private final Path dir;
    private final List<String> lines = new ArrayList<>();
    private int files;

    KernelEmulator(Path dir) {
        this.dir = dir;
    }

    /** Why g++ cannot be used here, or null when it can. */
    static String compilerProblem() {
        try {
            Process p = new ProcessBuilder(CXX, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return CXX + " --version did not finish";
            }
            return p.exitValue() == 0 ? null : CXX + " --version exited with " + p.exitValue();
        } catch (IOException e) {
            return CXX + " is not on the PATH (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Compiles the emulator with the kernels of {@code gpu/src/main/cuda} into this directory. Without
     * the alignment sanitizer when this g++ cannot link it (then misaligned loads go unnoticed).
     */
    Path compile(Path gpuModule) throws IOException, InterruptedException {
        Path exe = dir.resolve("kernel_emulator");
        List<String> cmd = new ArrayList<>(List.of(CXX));
        cmd.addAll(FLAGS);
        cmd.addAll(List.of("-I", gpuModule.resolve("src/test/cuda").toString(), "-I", gpuModule.resolve("src/main/cuda").toString(),
                "-o", exe.toString(), gpuModule.resolve("src/test/cuda/kernel_emulator.cpp").toString()));
        List<String> sanitized = new ArrayList<>(cmd);
        sanitized.addAll(1, SANITIZE);
        String first = exec(sanitized, 300);
        if (first == null) return exe;
        String second = exec(cmd, 300);
        if (second != null) {
            throw new AssertionError("g++ could not compile the kernels for the CPU:\n" + String.join(" ", cmd) + "\n" + second);
        }
        System.out.println("KernelEmulationTest: built without -fsanitize=alignment (" + first.lines().findFirst().orElse("") + ")");
        return exe;
    }

    /** Runs cmd; null when it exits 0, else its output. */
    private String exec(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Path log = dir.resolve("compile.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", cmd) + " did not finish in " + seconds + " s";
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        return p.exitValue() == 0 ? null : out.isBlank() ? "exit status " + p.exitValue() : out;
    }

    // ---- arguments of a launch ----------------------------------------------------------------------

    /** A read-only buffer holding data, starting {@code misalign} bytes past a 256-byte boundary. */
    String in(byte[] data, int misalign) {
        return "in:" + write(data) + ":" + misalign;
    }

    String in(float[] data, int misalign) {
        return in(bytes(data), misalign);
    }

    String in(int[] data, int misalign) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int v : data) b.putInt(v);
        return in(b.array(), misalign);
    }

    /** A null pointer argument (an optional pointer left out). */
    static final String NULL = "null";

    /** An output buffer of {@code bytes} bytes, each 0xFF before the launch. */
    Output out(long bytes, int misalign) {
        String name = "o" + files++ + ".bin";
        return new Output(dir.resolve(name), "out:" + name + ":" + bytes + ":" + misalign);
    }

    /** A buffer holding data that the kernel updates in place. */
    Output inout(float[] data, int misalign) {
        String in = write(bytes(data));
        String name = "o" + files++ + ".bin";
        return new Output(dir.resolve(name), "inout:" + in + ":" + name + ":" + misalign);
    }

    /** The same pointer as pointer argument {@code index} (0-based) of the launch. */
    static String same(int index) {
        return "same:" + index;
    }

    static String i(int v) {
        return "i:" + v;
    }

    static String l(long v) {
        return "l:" + v;
    }

    static String f(float v) {
        return "f:" + Float.toHexString(v);  // C99 hex float: every bit survives strtof
    }

    /**
     * Adds a launch of {@code kernel} on a grid of (gx, gy) blocks of (bx, by) threads; each argument is a
     * String from the methods above or an {@link Output}. Returns the launch's id.
     */
    int launch(String kernel, int gx, int gy, int bx, int by, Object... args) {
        int id = lines.size();
        StringBuilder sb = new StringBuilder().append(id).append(' ').append(kernel).append(' ')
                .append(gx).append(' ').append(gy).append(' ').append(bx).append(' ').append(by);
        for (Object a : args) sb.append(' ').append(a instanceof Output o ? o.token : (String) a);
        lines.add(sb.toString());
        return id;
    }

    private String write(byte[] data) {
        String name = "i" + files++ + ".bin";
        try {
            Files.write(dir.resolve(name), data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return name;
    }

    static byte[] bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    /** A buffer the emulator writes back to {@code file} after the launch. */
    record Output(Path file, String token) {
        float[] floats() {
            ByteBuffer b = read();
            float[] v = new float[b.remaining() / 4];
            for (int i = 0; i < v.length; i++) v[i] = b.getFloat();
            return v;
        }

        short[] halves() {
            ByteBuffer b = read();
            short[] v = new short[b.remaining() / 2];
            for (int i = 0; i < v.length; i++) v[i] = b.getShort();
            return v;
        }

        private ByteBuffer read() {
            try {
                return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    // ---- running ------------------------------------------------------------------------------------

    /** Which launches finished, and why each of the others did not. */
    record Result(Set<Integer> finished, Map<Integer, String> failed) {
        /** Fails unless launch id ran to its end with nothing written outside its outputs. */
        void assertFinished(int id, String label) {
            if (finished.contains(id)) return;
            throw new AssertionError(label + ": the emulated launch failed: " + failed.getOrDefault(id, "it did not run"));
        }
    }

    /**
     * Runs every launch added. When the emulator stops at a launch (a broken rule, a sanitizer report,
     * a crash), that launch fails and the emulator is started again at the next one, so each launch is
     * judged on its own.
     */
    Result run(Path exe, int timeoutSeconds) throws IOException, InterruptedException {
        Set<Integer> finished = new HashSet<>();
        Map<Integer, String> failed = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        int from = 0;
        while (from < lines.size()) {
            Files.write(dir.resolve("launches.txt"), lines.subList(from, lines.size()), StandardCharsets.UTF_8);
            Path stdout = dir.resolve("emulator.out"), stderr = dir.resolve("emulator.err");
            Process p = new ProcessBuilder(exe.toString(), dir.toString())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
            long left = Math.max(1, deadline - System.nanoTime());
            boolean timedOut = !p.waitFor(left, TimeUnit.NANOSECONDS);
            if (timedOut) {
                p.destroyForcibly();
                p.waitFor();
            }
            Integer begun = null;
            String error = null;
            for (String line : Files.readAllLines(stdout, StandardCharsets.UTF_8)) {
                if (line.startsWith("begin ")) begun = Integer.parseInt(line.substring(6));
                else if (line.startsWith("end ")) finished.add(Integer.parseInt(line.substring(4)));
                else if (line.startsWith("error ")) error = line.substring(6);
            }
            if (!timedOut && p.exitValue() == 0) break;
            String err = Files.readString(stderr, StandardCharsets.UTF_8).strip();
            String why = timedOut ? "the emulator ran past " + timeoutSeconds + " s"
                    : error != null ? error
                    : "the emulator exited with status " + p.exitValue()
                            + (err.isEmpty() ? "" : ": " + err.lines().limit(8).reduce((a, b) -> a + " | " + b).orElse(""));
            // The launch that stopped it: the one begun and not ended, else (set-up failed) the next one.
            int stopped = begun != null && !finished.contains(begun) ? begun : begun != null ? begun + 1 : from;
            if (timedOut || stopped >= lines.size()) {
                for (int id = from; id < lines.size(); id++) if (!finished.contains(id)) failed.put(id, why);
                break;
            }
            failed.put(stopped, why);
            from = stopped + 1;
        }
        return new Result(finished, failed);
    }
}
