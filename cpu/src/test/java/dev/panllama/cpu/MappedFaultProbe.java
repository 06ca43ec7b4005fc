package dev.panllama.cpu;

import dev.panllama.backend.Kernels;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Run in a child JVM by {@link MappedFileFaultTest}: maps one weight file per type, runs every dedicated
 * kernel on it until C2 has compiled them, truncates the files, and runs each again. Each must end in
 * the JVM's InternalError for a faulting mapped access, not a crash. Prints one line per type and
 * path ("Q4_K x1: InternalError"); a JVM crash ends the output at the line of the kernel that crashed.
 */
public final class MappedFaultProbe {
    private static final int[] TOKENS = {1, 2, CpuKernels.BATCH_PATH_MIN_TOKENS};

    private record Case(GgmlType type, Path file, Tensor w) {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int warmups = Integer.parseInt(args[1]);
        List<Case> cases = new ArrayList<>();
        Arena arena = Arena.ofShared();
        for (GgmlType type : GgmlType.values()) {
            if (!KernelTable.isDedicated(type)) continue;
            if (args.length > 2 && !args[2].equals(type.name())) continue;
            int k = 512, rows = 16;
            Tensor onHeap = type.codec().canQuantize() && type.interleavedRows() == 1
                    ? KernelAgreementTest.randomTensor(arena, type, k, rows)
                    : IqkKernelsTest.randomTensor(arena, type, k, rows, new Random(type.ordinal()));
            Path file = dir.resolve(type + ".bin");
            Files.write(file, onHeap.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            MemorySegment mapped;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            cases.add(new Case(type, file, new Tensor("w", type, new long[]{k, rows}, mapped)));
        }
        Random rnd = new Random(1);
        try (Kernels cpu = new CpuBackend().createKernels(2)) {
            for (Case c : cases) {
                for (int tokens : TOKENS) {
                    float[] x = new float[tokens * 512];
                    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                    float[] y = new float[tokens * 16];
                    for (int i = 0; i < warmups; i++) cpu.matmul(c.w(), x, y, tokens);
                }
            }
            System.out.println("warmed up " + cases.size() + " types");
            for (Case c : cases) {
                try (FileChannel ch = FileChannel.open(c.file(), StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
            for (Case c : cases) {
                for (int tokens : TOKENS) {
                    System.out.print(c.type() + " x" + tokens + ": ");
                    System.out.flush();
                    float[] x = new float[tokens * 512];
                    float[] y = new float[tokens * 16];
                    try {
                        cpu.matmul(c.w(), x, y, tokens);
                        System.out.println("no fault");
                    } catch (InternalError e) {
                        System.out.println("InternalError");
                    }
                }
            }
        }
        System.out.println("done");
    }
}
