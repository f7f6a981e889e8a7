// header_cxx.cpp: dmp.h must compile as C++17 (-Wall -Wextra -Werror -pedantic), be
// self-contained (included first), declare its functions extern "C" (this file links), and
// survive being included twice.
#include "dmp.h"
#include "dmp.h"

#include <cstdio>

int main() {
    const char *version = dmp_version();
    dmp_identity_t *id = nullptr;
    int32_t rc = dmp_identity_generate(&id);
    size_t len = 0;
    uint8_t fp[DMP_FINGERPRINT_LEN];
    if (rc == DMP_OK) rc = dmp_identity_fingerprint(id, fp, sizeof fp, &len);
    dmp_identity_free(id);
    std::printf("header_cxx: dmp %s (ABI %u), C++ call status %d\n", version,
                static_cast<unsigned>(dmp_abi_version()), static_cast<int>(rc));
    return rc == DMP_OK && dmp_abi_version() == DMP_ABI_VERSION ? 0 : 1;
}
