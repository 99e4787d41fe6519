"""bench live: a boot image that wipes, inventories and records a whole computer.

Build side (runs on the bench PC): `recipe` (what goes into the image, as data), `build`
(the cached build: Debian rootfs, squashfs layers, the GPT stick image), `disk` (partition
table, FAT images, the BIOS boot code). Image side (runs on the donated computer): `session`
(the first-boot flow), `inventory` (SMBIOS, CPU, memory, battery, screen, MACs as hashes),
`console` (prompts, the big result screen), `medium` (which disk is the boot stick), `stick`
(the data partition's layout and config). Back on the bench PC: `importer` (`bench import`).
"""
