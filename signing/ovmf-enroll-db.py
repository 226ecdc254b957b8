#!/usr/bin/env python3
"""ovmf-enroll-db.py VARS_IN CERT_DER VARS_OUT: an OVMF variable store whose db holds one certificate.

Takes an OVMF VARS file that already has Secure Boot keys enrolled (Debian's
/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd: snakeoil PK and KEK, Secure Boot on) and writes a copy whose
db (the signature database the firmware checks EFI binaries against) holds only CERT_DER, the X.509
certificate the build signs GRUB and the kernel with (out/keys/public/db.der). PK and KEK stay.

The store is edited as the firmware keeps it, offline: the old db record is marked deleted and a new
one appended in the free space (an authenticated variable record: the timestamp is copied, the data is
an EFI_SIGNATURE_LIST). The firmware trusts its own store, so nothing needs signing here. This is for
tests and development (python3-virt-firmware does the same and more; it is not in Debian 12).
"""
import struct
import sys
import uuid

FV_SIGNATURE = b"_FVH"
AUTH_VAR_STORE = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
IMAGE_SECURITY_DB = uuid.UUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
CERT_X509 = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
OWNER = uuid.UUID("c7d3d0f4-58f4-4a5c-9b8b-3f5a4e0e9c11")  # any GUID: the signature's owner
START_ID = 0x55AA
VAR_ADDED = 0x3F
VAR_DELETED_MASK = 0xFD  # clearing bit 1 (VAR_DELETED) marks a record deleted
HDR = struct.Struct("<HBBIQ16sIII16s")  # AUTHENTICATED_VARIABLE_HEADER, 60 bytes


def die(msg):
    sys.exit(f"{sys.argv[0]}: {msg}")


def records(data, start, end):
    """(offset, state, attrs, timestamp, name, guid, header+name+data length) of each record."""
    p = start
    while p + HDR.size <= end:
        sid, state, _, attrs, _, ts, _, nsize, dsize, guid = HDR.unpack_from(data, p)
        if sid != START_ID:
            return
        name = data[p + HDR.size:p + HDR.size + nsize].decode("utf-16-le").rstrip("\0")
        yield p, state, attrs, ts, name, uuid.UUID(bytes_le=guid), HDR.size + nsize + dsize
        p = (p + HDR.size + nsize + dsize + 3) & ~3


def main():
    if len(sys.argv) != 4:
        die("usage: ovmf-enroll-db.py VARS_IN CERT_DER VARS_OUT")
    vars_in, cert_path, vars_out = sys.argv[1:]
    data = bytearray(open(vars_in, "rb").read())
    cert = open(cert_path, "rb").read()
    if data[40:44] != FV_SIGNATURE:
        die(f"{vars_in}: not an OVMF VARS file (no firmware volume header); use OVMF_VARS_4M.snakeoil.fd")
    store = struct.unpack_from("<H", data, 48)[0]
    if uuid.UUID(bytes_le=bytes(data[store:store + 16])) != AUTH_VAR_STORE:
        die(f"{vars_in}: no authenticated variable store; use an OVMF built with Secure Boot")
    end = store + struct.unpack_from("<I", data, store + 16)[0]
    if cert[:1] != b"\x30":
        die(f"{cert_path}: not a DER certificate; convert it: openssl x509 -outform DER")

    old = [r for r in records(data, store + 28, end)
           if r[4] == "db" and r[5] == IMAGE_SECURITY_DB and r[1] == VAR_ADDED]
    if not old:
        die(f"{vars_in}: has no db to replace; start from OVMF_VARS_4M.snakeoil.fd (keys enrolled)")
    last = list(records(data, store + 28, end))[-1]
    free = (last[0] + last[6] + 3) & ~3

    esl = CERT_X509.bytes_le + struct.pack("<III", 28 + 16 + len(cert), 0, 16 + len(cert)) + OWNER.bytes_le + cert
    name = "db\0".encode("utf-16-le")
    off, _, attrs, ts = old[0][:4]
    rec = HDR.pack(START_ID, VAR_ADDED, 0, attrs, 0, ts, 0, len(name), len(esl), IMAGE_SECURITY_DB.bytes_le)
    rec += name + esl
    if free + len(rec) > end or any(b != 0xFF for b in data[free:free + len(rec)]):
        die(f"{vars_in}: no free space for the new db record")
    data[off + 2] &= VAR_DELETED_MASK
    data[free:free + len(rec)] = rec
    open(vars_out, "wb").write(data)


if __name__ == "__main__":
    main()
