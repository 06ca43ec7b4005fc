package dev.panllama.gpu;

import dev.panllama.backend.AttentionKernel;
import dev.panllama.backend.ComputeBackend;
import dev.panllama.backend.Device;
import dev.panllama.backend.Kernels;
import dev.panllama.backend.ReferenceKernels;
import dev.panllama.tensor.Tensor;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A stand-in accelerator for testing the scheduler without a GPU: device {@code FAKE0}, not a host device,
 * computing with the reference kernels, remembering which weights were placed on it and which it ran.
 * Registered only by tests that ask for it (through a class loader of their own, see PlacementOnAcceleratorTest).
 */
public final class FakeAcceleratorBackend implements ComputeBackend {

    @Override
    public String name() { return "FAKE"; }

    @Override
    public boolean isAvailable() { return true; }

    @Override
    public List<Device> devices(int threads) {
        return List.of(new FakeDevice());
    }

    static final class FakeDevice implements Device {
        final Set<String> placed = Collections.synchronizedSet(new LinkedHashSet<>());
        final Set<String> multiplied = Collections.synchronizedSet(new LinkedHashSet<>());
        /** Host weights it multiplied by op offload (batches of 32+ tokens, as CUDA). */
        final Set<String> streamed = Collections.synchronizedSet(new LinkedHashSet<>());
        int attentionCalls;
        private final Kernels kernels = new Kernels() {
            private final ReferenceKernels reference = new ReferenceKernels();

            @Override
            public String description() { return "FAKE0: " + reference.description(); }

            @Override
            public int threads() { return 1; }

            @Override
            public void matmul(Tensor w, long rowStart, int rowCount, float[] x, float[] y, int tokens) {
                if (!placed.contains(w.name())) streamed.add(w.name());    // only op offload multiplies host weights here
                multiplied.add(w.name());
                reference.matmul(w, rowStart, rowCount, x, y, tokens);
            }

            @Override
            public void attention(AttentionKernel.Job job) {
                attentionCalls++;
                AttentionKernel.reference(job);
            }
        };

        @Override
        public String name() { return "FAKE0"; }

        @Override
        public String description() { return "a test accelerator (reference kernels)"; }

        @Override
        public boolean isHost() { return false; }

        @Override
        public Kernels kernels() { return kernels; }

        @Override
        public boolean offloadsOp(dev.panllama.graph.Op op) {
            return op instanceof dev.panllama.graph.Op.MatMulExperts e && e.tokens() >= CudaDevice.OP_OFFLOAD_MIN_BATCH;
        }

        @Override
        public long memoryTotal() { return 1L << 30; }

        @Override
        public long memoryFree() { return 1L << 30; }

        @Override
        public Tensor place(Tensor weight) {
            placed.add(weight.name());
            return weight;
        }
    }
}
