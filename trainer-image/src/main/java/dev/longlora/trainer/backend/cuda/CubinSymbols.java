package dev.longlora.trainer.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

/**
 * The kernel entry points a compiled module defines: global function symbols of a cubin (an ELF file) or the
 * {@code .entry} directives of PTX text. Used to give one clear error when a kernels jar lacks a kernel the backend
 * launches, instead of a driver error at the first launch.
 */
public final class CubinSymbols {
    private static final int SHT_SYMTAB = 2;
    private static final int STT_FUNC = 2;
    private static final int STB_GLOBAL = 1;

    private CubinSymbols() {}

    /** Entry points of a module image: PTX when it starts with text, else a 64-bit little-endian ELF cubin. */
    public static Set<String> entryPoints(byte[] image) {
        if (image.length >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F') {
            return elfFunctions(image);
        }
        return ptxEntries(new String(image, StandardCharsets.UTF_8));
    }

    static Set<String> ptxEntries(String ptx) {
        Set<String> names = new TreeSet<>();
        for (String line : ptx.split("\n")) {
            String[] parts = line.replace('(', ' ').trim().split("\\s+");
            for (int i = 0; i + 1 < parts.length; i++) {
                if (parts[i].equals(".entry")) {
                    names.add(parts[i + 1]);
                }
            }
        }
        return names;
    }

    static Set<String> elfFunctions(byte[] image) {
        if (image.length < 64 || image[4] != 2 || image[5] != 1) {
            throw new IllegalArgumentException("not a 64-bit little-endian ELF image (cubin)");
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        Set<String> names = new TreeSet<>();
        for (int i = 0; i < shnum; i++) {
            int sh = Math.toIntExact(shoff + (long) i * shentsize);
            if (b.getInt(sh + 4) != SHT_SYMTAB) {
                continue;
            }
            int offset = Math.toIntExact(b.getLong(sh + 0x18));
            long size = b.getLong(sh + 0x20);
            int link = b.getInt(sh + 0x28);
            long entsize = b.getLong(sh + 0x38);
            int strtab = Math.toIntExact(b.getLong(Math.toIntExact(shoff + (long) link * shentsize) + 0x18));
            for (long j = 0; entsize > 0 && j < size / entsize; j++) {
                int sym = Math.toIntExact(offset + j * entsize);
                int nameOffset = b.getInt(sym);
                int info = Byte.toUnsignedInt(b.get(sym + 4));
                if ((info & 0xf) == STT_FUNC && (info >> 4) == STB_GLOBAL) {
                    int start = strtab + nameOffset;
                    int end = start;
                    while (image[end] != 0) {
                        end++;
                    }
                    names.add(new String(image, start, end - start, StandardCharsets.US_ASCII));
                }
            }
        }
        return names;
    }
}
