// Fuzz targets (see tools/fuzz). Built with -sanitize=fuzzer,address -DFUZZING.
print("kafkatape-fuzz: build with tools/fuzz")
