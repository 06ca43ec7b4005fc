package dev.panllama.cpu;

import dev.panllama.tensor.GgmlType;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Names the vector width this test run's kernels use, and checks it is the width the Surefire execution
 * asked for (cpu/pom.xml runs the suite natively and with -XX:MaxVectorSize=32 and =16): a run that
 * silently kept the machine's width would prove nothing about the narrower ones.
 */
class VectorWidthTest {
    @Test
    void runsAtTheRequestedWidth() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String requested = System.getProperty("panllama.test.vectorBits");
        System.out.println("cpu kernels under test: Vector API " + bits + "-bit preferred species ("
                + VecMath.FL + " float lanes)" + (requested == null ? ", this machine's own width" : ", capped to " + requested + "-bit"));
        assertThat(VecMath.FL * 32).isEqualTo(bits);
        if (requested != null) assertThat(bits).isEqualTo(Integer.parseInt(requested));
    }

    /** Whatever the JVM prefers, the kernels get 128, 256 or 512 bits: their loops assume FL divides 16. */
    @Test
    void kernelSpeciesIsAlways128To512Bits() {
        int[][] cases = {{64, 128}, {128, 128}, {256, 256}, {384, 256}, {512, 512}, {1024, 512}, {2048, 512}};
        for (int[] c : cases) assertThat(VecMath.kernelSpecies(c[0]).vectorBitSize()).as("preferred %d bits", c[0]).isEqualTo(c[1]);
    }

    /**
     * The quantized kernels are fixed 256-bit shapes: below 256 bits every quantized type with a row codec
     * runs through it (the JVM would emulate the wide vectors ~200x slower), the float types and the
     * interleaved ones keep their kernels; from 256 bits up every type keeps its dedicated kernel.
     */
    @Test
    void belowTheQuantizedKernelsWidthRowsAreDecoded() {
        for (int bits : new int[]{64, 128, 256, 512}) {
            KernelTable table = new KernelTable(bits);
            assertThat(table.decodesQuantizedRows()).as("%d bits", bits).isEqualTo(bits < 256);
            for (GgmlType type : GgmlType.values()) {
                if (!KernelTable.isDedicated(type)) continue;
                boolean decoded = bits < 256 && type.blockSize() > 1 && type.interleavedRows() == 1;
                WeightKernel kernel = table.forType(type);
                assertThat(kernel instanceof CodecRowKernel).as("%s at %d bits", type, bits).isEqualTo(decoded);
                if (!decoded) assertThat(kernel).as("%s at %d bits", type, bits).isSameAs(KernelTable.dedicated(type));
            }
        }
        for (GgmlType type : new GgmlType[]{GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0_R8, GgmlType.IQ4_K_R4}) {
            assertThat(new KernelTable(128).forType(type)).as("%s", type).isSameAs(KernelTable.dedicated(type));
        }
        assertThat(new KernelTable(128).forType(GgmlType.Q4_K)).isInstanceOf(CodecRowKernel.class);
    }

    /** The backend says when it runs quantized weights through the slow row decode. */
    @Test
    void theDescriptionNamesTheRowDecode() {
        try (var kernels = new CpuBackend().createKernels(1)) {
            String d = kernels.description();
            assertThat(d.contains("quantized rows decoded")).as(d).isEqualTo(FloatVector.SPECIES_PREFERRED.vectorBitSize() < 256);
        }
    }
}
