package dev.panllama.gpu;

import dev.panllama.tensor.GgmlType;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelTypesTest {

    /** The native types are exactly the contract's list for mv_ and dq_ (gpu/KERNELS.md), in kernel-name form. */
    @Test
    void nativeTypesAreTheContractsList() throws IOException {
        String contract = Files.readString(TestFiles.root().resolve("gpu/KERNELS.md"));
        Matcher m = Pattern.compile("for `<type>` in `([^`]+)`").matcher(contract);
        assertThat(m.find()).as("the contract's type list").isTrue();
        Set<String> listed = new TreeSet<>(Arrays.asList(m.group(1).trim().split("\\s+")));
        Set<String> ours = KernelTypes.NATIVE.stream().map(t -> KernelTypes.matvec(t).substring(3)).collect(Collectors.toCollection(TreeSet::new));
        assertThat(ours).isEqualTo(listed);
        assertThat(contract).contains("same `<type>` list");   // dq_ kernels cover the same types
    }

    @Test
    void kernelNames() {
        assertThat(KernelTypes.matvec(GgmlType.Q4_K)).isEqualTo("mv_q4_k");
        assertThat(KernelTypes.matvec(GgmlType.F32)).isEqualTo("mv_f32");
        assertThat(KernelTypes.matvec(GgmlType.BF16)).isEqualTo("mv_bf16");
        assertThat(KernelTypes.dequant(GgmlType.IQ4_XS)).isEqualTo("dq_iq4_xs_f16");
        assertThat(KernelTypes.dequant(GgmlType.Q8_0)).isEqualTo("dq_q8_0_f16");
        for (GgmlType t : KernelTypes.NATIVE) {
            assertThat(KernelSources.moduleOf(KernelTypes.matvec(t))).isEqualTo("matvec");
            assertThat(KernelSources.moduleOf(KernelTypes.dequant(t))).isEqualTo("dequant");
        }
        assertThatThrownBy(() -> KernelTypes.matvec(GgmlType.Q5_0)).hasMessageContaining("Q5_0");
    }

    @Test
    void typesWithoutKernelsAreStoredAsF16AndTypesWithoutCodecsAreRefused() {
        for (GgmlType t : GgmlType.values()) {
            if (KernelTypes.runsNatively(t)) {
                assertThat(KernelTypes.storedType(t)).isEqualTo(t);
            } else if (t.hasCodec()) {
                assertThat(KernelTypes.storedType(t)).as(t.name()).isEqualTo(GgmlType.F16);
            } else {
                assertThatThrownBy(() -> KernelTypes.storedType(t)).as(t.name())
                        .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining(t.name());
            }
        }
        assertThat(KernelTypes.storedType(GgmlType.Q5_0)).isEqualTo(GgmlType.F16);
        assertThat(KernelTypes.storedType(GgmlType.IQ4_K_R4)).isEqualTo(GgmlType.F16);
        assertThat(KernelTypes.runsNatively(GgmlType.Q4_1)).isFalse();
    }

    /** attention_f32 reads every type a KV cache may hold as it is. */
    @Test
    void attentionReadsEveryCacheType() {
        assertThat(dev.panllama.kv.KvCache.TYPES).extracting(GgmlType::id).containsExactlyInAnyOrder(0, 1, 30, 8, 2);
        for (GgmlType t : dev.panllama.kv.KvCache.TYPES) assertThat(KernelTypes.runsNatively(t)).as(t.name()).isTrue();
    }
}
