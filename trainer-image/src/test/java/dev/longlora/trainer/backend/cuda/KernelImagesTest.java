package dev.longlora.trainer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The kernels jar's packaging, checked without a GPU: every compiled image defines every expected kernel. */
class KernelImagesTest {

    @Test
    void everyCompiledImageDefinesEveryExpectedEntryPoint() {
        KernelImages images = KernelImages.fromClasspath();
        assumeTrue(images.built(), images::notBuiltReason);
        assertEquals(Set.of("attention", "layers"), images.entryPoints().keySet());
        assertEquals(List.of("sm_80", "sm_90a", "compute_80"), images.targets());
        for (var module : images.entryPoints().entrySet()) {
            for (String target : images.targets()) {
                String name = module.getKey() + "." + target + (target.startsWith("compute") ? ".ptx" : ".cubin");
                byte[] image = images.load(name);
                Set<String> found = CubinSymbols.entryPoints(image);
                assertTrue(
                        found.containsAll(module.getValue()),
                        name + " defines " + found + ", expected " + module.getValue());
                assertFalse(module.getValue().isEmpty());
            }
        }
    }

    @Test
    void imageChoiceFollowsComputeCapability() {
        assertEquals("attention.sm_90a.cubin", KernelImages.imageName("attention", 9, 0));
        assertEquals("layers.sm_80.cubin", KernelImages.imageName("layers", 8, 6));
        assertEquals("layers.compute_80.ptx", KernelImages.imageName("layers", 10, 0));
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> KernelImages.imageName("layers", 7, 5));
        assertTrue(e.getMessage().contains("sm_80"), e.getMessage());
    }

    @Test
    void ptxEntriesAreReadFromEntryDirectives() {
        String ptx = ".version 9.0\n.target sm_80\n.visible .entry attn_fwd_d64(\n .param .u64 p\n)\n"
                + ".visible .entry rope(\n)\n.func helper(\n)\n";
        assertEquals(Set.of("attn_fwd_d64", "rope"), CubinSymbols.entryPoints(ptx.getBytes()));
    }

    @Test
    void aTruncatedElfImageIsRejectedClearly() {
        byte[] bad = {0x7f, 'E', 'L', 'F', 1, 1, 0, 0};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CubinSymbols.entryPoints(bad));
        assertTrue(e.getMessage().contains("ELF"), e.getMessage());
    }
}
