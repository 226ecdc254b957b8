#!/usr/bin/env python3
"""fatsectors.py IMAGE OFFSET PATH...: where FAT files lie, sector by sector.

For each PATH of the FAT file system at byte OFFSET of IMAGE, prints one line
    PATH data=S1,S2,... entry=S3,S4,...
with the sectors (512-byte, counted from the start of IMAGE) of its data and of its directory
entries (the long-name entries and the 8.3 entry), read from the boot sector, the FAT and the
directories themselves (FAT12/16/32). Exit 1 naming the path when one is not found.
"""
import struct
import sys


class Fat:
    def __init__(self, f, off):
        self.f, self.off = f, off
        b = self.read(off, 512)
        self.bps, self.spc = struct.unpack_from("<H", b, 11)[0], b[13]
        reserved, fats, roots = struct.unpack_from("<H", b, 14)[0], b[16], struct.unpack_from("<H", b, 17)[0]
        fatsz = struct.unpack_from("<H", b, 22)[0] or struct.unpack_from("<I", b, 36)[0]
        total = struct.unpack_from("<H", b, 19)[0] or struct.unpack_from("<I", b, 32)[0]
        self.fat_at = off + reserved * self.bps
        self.root_at = self.fat_at + fats * fatsz * self.bps
        self.root_len = roots * 32
        self.data_at = self.root_at + (roots * 32 + self.bps - 1) // self.bps * self.bps
        clusters = (total - (self.data_at - off) // self.bps) // self.spc
        self.bits = 12 if clusters < 4085 else 16 if clusters < 65525 else 32
        self.root_cluster = struct.unpack_from("<I", b, 44)[0] if self.bits == 32 else 0

    def read(self, at, n):
        self.f.seek(at)
        return self.f.read(n)

    def next_cluster(self, c):
        if self.bits == 16:
            return struct.unpack("<H", self.read(self.fat_at + 2 * c, 2))[0]
        if self.bits == 32:
            return struct.unpack("<I", self.read(self.fat_at + 4 * c, 4))[0] & 0x0FFFFFFF
        v = struct.unpack("<H", self.read(self.fat_at + c * 3 // 2, 2))[0]
        return v >> 4 if c & 1 else v & 0xFFF

    def chain(self, c):
        end = {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}[self.bits]
        while 2 <= c < end:
            yield c
            c = self.next_cluster(c)

    def extents(self, cluster):
        """(byte offset, length) of each cluster of a chain; the root directory of FAT12/16 for 0."""
        if cluster == 0 and self.bits != 32:
            return [(self.root_at, self.root_len)]
        size = self.spc * self.bps
        return [(self.data_at + (c - 2) * size, size) for c in self.chain(cluster or self.root_cluster)]

    def lookup(self, cluster, name):
        """(first cluster, size, byte offsets of its entries) of name in the directory at cluster."""
        lfn = []
        for at, n in self.extents(cluster):
            d = self.read(at, n)
            for i in range(0, n, 32):
                e = d[i:i + 32]
                if e[0] == 0:
                    return None
                if e[0] == 0xE5:
                    lfn = []
                    continue
                if e[11] == 0x0F:
                    lfn.append((at + i, e))
                    continue
                if e[11] & 0x08:  # the volume label
                    lfn = []
                    continue
                long = "".join(long_part(x) for _, x in sorted(lfn, key=lambda p: p[1][0] & 0x1F))
                short = short_name(e)
                if name in (long, short) or name.upper() == short.upper():
                    c = struct.unpack_from("<H", e, 26)[0] | struct.unpack_from("<H", e, 20)[0] << 16
                    return c, struct.unpack_from("<I", e, 28)[0], [p for p, _ in lfn] + [at + i]
                lfn = []
        return None


def long_part(e):
    raw = e[1:11] + e[14:26] + e[28:32]
    s = raw.decode("utf-16-le", "replace")
    return s.split("\0")[0].replace("\uffff", "")


def short_name(e):
    base, ext = e[0:8].decode("ascii", "replace").rstrip(), e[8:11].decode("ascii", "replace").rstrip()
    return base + ("." + ext if ext else "")


def sectors(fat, path):
    cluster, entries = 0, []
    for part in [p for p in path.split("/") if p]:
        hit = fat.lookup(cluster, part)
        if not hit:
            return None
        cluster, size, entries = hit
    data = []
    for at, n in fat.extents(cluster) if cluster else []:
        data += range(at // 512, (at + n) // 512)
    return data, sorted({at // 512 for at in entries})


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: fatsectors.py IMAGE OFFSET PATH...")
    with open(sys.argv[1], "rb") as f:
        fat = Fat(f, int(sys.argv[2]))
        for path in sys.argv[3:]:
            s = sectors(fat, path)
            if s is None:
                sys.exit("fatsectors.py: %s: %s not found in the FAT at %s; check the path" % (sys.argv[1], path, sys.argv[2]))
            print("%s data=%s entry=%s" % (path, ",".join(map(str, s[0])), ",".join(map(str, s[1]))))


if __name__ == "__main__":
    main()
