"""``prefetch(array, i)``: ask the processor to bring ``array[i]``'s cache line in early.

A numba intrinsic (LLVM's ``llvm.prefetch``: read, keep in all cache levels).
The visited index is far larger than the caches, so each lookup starts with a
cache miss; asking for the cells of the next few lookups before walking the
current one lets those misses overlap.  It is only a hint: it changes no
value, and a wrong guess costs one wasted fetch.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx: Any, array: Any, i: Any) -> Any:
    """``prefetch(array, i)`` in numba code (``array`` one-dimensional, ``i`` in range)."""
    sig = types.void(array, i)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]],
                                       wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
