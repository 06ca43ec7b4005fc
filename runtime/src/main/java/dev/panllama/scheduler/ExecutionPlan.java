package dev.panllama.scheduler;

import dev.panllama.backend.Device;
import dev.panllama.backend.DeviceSet;
import dev.panllama.backend.Kernels;
import dev.panllama.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The devices a model's forward pass uses, resolved once at load from a {@link Placement}: for every
 * layer, the device index of each op's weight. The transformer asks it which device runs an op; ops
 * without a weight of their own run with the weight they belong to (rope with q/k, SwiGLU with the
 * gate, the residual add with the projection before it).
 */
public final class ExecutionPlan {

    /** Device indices of one layer's ops. */
    public record LayerDevices(int attnNorm, int wq, int wk, int wv, int wo, int qNorm, int kNorm,
                               int ffnNorm, int ffnGate, int ffnUp, int ffnDown,
                               int router, int expGate, int expUp, int expDown) {}

    private final List<Device> devices;
    private final Kernels[] kernels;
    private final LayerDevices[] layers;
    private final int outputNorm;
    private final int output;
    private final Placement placement;

    private ExecutionPlan(List<Device> devices, LayerDevices[] layers, int outputNorm, int output, Placement placement) {
        this.devices = devices;
        this.kernels = devices.stream().map(Device::kernels).toArray(Kernels[]::new);
        this.layers = layers;
        this.outputNorm = outputNorm;
        this.output = output;
        this.placement = placement;
    }

    public static ExecutionPlan of(Placement placement, ModelConfig c, DeviceSet set) {
        List<Device> used = new ArrayList<>();
        used.add(set.cpu());                    // index 0: the host CPU, where token_embd and the inputs are
        Indexer ix = new Indexer(placement, set, used);
        // Latent-attention models have other tensors; their forward pass asks deviceIndex(name) instead.
        LayerDevices[] layers = new LayerDevices[c.arch().latentAttention() ? 0 : c.blockCount()];
        for (int i = 0; i < layers.length; i++) {
            String b = "blk." + i + ".";
            int wk = ix.of(b + "attn_k.weight");
            int gate = ix.of(b + (c.isMoe() ? "ffn_gate_inp.weight" : "ffn_gate.weight"));
            layers[i] = new LayerDevices(ix.of(b + "attn_norm.weight"), ix.of(b + "attn_q.weight"), wk,
                    ix.of(b + "attn_v.weight"), ix.of(b + "attn_output.weight"),
                    ix.of(b + "attn_q_norm.weight"), ix.of(b + "attn_k_norm.weight"), ix.of(b + "ffn_norm.weight"),
                    gate, ix.of(b + "ffn_up.weight"), ix.of(b + "ffn_down.weight"),
                    gate, ix.of(b + "ffn_gate_exps.weight"), ix.of(b + "ffn_up_exps.weight"), ix.of(b + "ffn_down_exps.weight"));
        }
        int outNorm = ix.of("output_norm.weight");
        int out = placement.entries().stream().anyMatch(e -> e.tensor().equals("output.weight"))
                ? ix.of("output.weight") : ix.of("token_embd.weight");
        for (Placement.Entry e : placement.entries()) ix.of(e.tensor());
        return new ExecutionPlan(List.copyOf(used), layers, outNorm, out, placement);
    }

    /** Assigns each distinct device a small index. */
    private record Indexer(Placement placement, DeviceSet set, List<Device> used) {
        int of(String tensor) {
            Device d = set.get(placement.deviceOf(tensor));
            int i = used.indexOf(d);
            if (i < 0) {
                used.add(d);
                i = used.size() - 1;
            }
            return i;
        }
    }

    public int deviceCount() { return devices.size(); }

    public Device device(int index) { return devices.get(index); }

    public Kernels kernels(int index) { return kernels[index]; }

    /** The llama-family ops of layer i (none for latent-attention models: see {@link #deviceIndex}). */
    public LayerDevices layer(int i) { return layers[i]; }

    /**
     * The index of the device holding a weight, for forward passes that resolve their own per-layer
     * devices (every device of the placement has an index; names the placement never saw are on the CPU).
     */
    public int deviceIndex(String tensor) {
        String name = placement.deviceOf(tensor);
        for (int i = 0; i < devices.size(); i++) if (devices.get(i).name().equals(name)) return i;
        throw new IllegalStateException("device " + name + " of " + tensor + " has no index in this plan");
    }

    public int outputNormDevice() { return outputNorm; }

    public int outputDevice() { return output; }

    public Placement placement() { return placement; }

    /** The CPU device's index (token embedding, sampling and everything unplaced). */
    public static final int HOST = 0;
}
