// The bytes of claude-container-init, included at build time (CMakeLists.txt passes the path
// and builds this file without ccache, which cannot see an .incbin dependency).
#ifndef CC_INIT_IMAGE_PATH
#error "CC_INIT_IMAGE_PATH must name the built claude-container-init"
#endif

__asm__(".section .rodata.cc_init_image,\"a\",@progbits\n"
        ".balign 16\n"
        ".globl cc_init_image_start\n"
        "cc_init_image_start:\n"
        ".incbin \"" CC_INIT_IMAGE_PATH "\"\n"
        ".globl cc_init_image_end\n"
        "cc_init_image_end:\n"
        ".previous\n");
