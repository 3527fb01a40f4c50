#!/usr/bin/env python3
"""Checks that a cubin (an ELF file) or a PTX file defines every expected kernel entry point.

Usage: elf_symbols.py FILE NAME...   exits 1 naming the missing entry points. Standard library only, so the
kernels build needs no cuobjdump (not shipped in the 13.0 wheels).
"""
import struct
import sys


def cubin_functions(data: bytes) -> set:
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not a 64-bit ELF file")
    endian = "<" if data[5] == 1 else ">"
    e_shoff, = struct.unpack_from(endian + "Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from(endian + "HH", data, 0x3A)
    sections = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        _name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, _info, _align, sh_entsize = struct.unpack_from(
            endian + "IIQQQQIIQQ", data, off)
        sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))
    names = set()
    for sh_type, sh_offset, sh_size, sh_link, sh_entsize in sections:
        if sh_type != 2 or sh_entsize == 0:  # SHT_SYMTAB
            continue
        str_off = sections[sh_link][1]
        for j in range(sh_size // sh_entsize):
            st_name, st_info, _other, _shndx, _value, _size = struct.unpack_from(
                endian + "IBBHQQ", data, sh_offset + j * sh_entsize)
            if (st_info & 0xF) == 2 and (st_info >> 4) == 1:  # STT_FUNC, STB_GLOBAL
                end = data.index(b"\0", str_off + st_name)
                names.add(data[str_off + st_name:end].decode())
    return names


def ptx_entries(text: str) -> set:
    names = set()
    for line in text.splitlines():
        parts = line.replace("(", " ").split()
        if ".entry" in parts:
            names.add(parts[parts.index(".entry") + 1])
    return names


def main(argv):
    path, expected = argv[1], argv[2:]
    data = open(path, "rb").read()
    found = ptx_entries(data.decode(errors="replace")) if path.endswith(".ptx") else cubin_functions(data)
    missing = [n for n in expected if n not in found]
    if missing:
        print(f"error: {path} lacks the entry points {', '.join(missing)} (found: {', '.join(sorted(found))})",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
