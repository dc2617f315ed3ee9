/* Planted layering violations: the layering checker must reject each line. */
#include <stdio.h>
#include "../../../sim/world.h"

int bad(void)
{
    int n = printf("x\n");
    void *p = malloc(1);
    return n + (p != 0) + xsim_world_now(0);
}
