package dev.panllama.cpu;

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
}
