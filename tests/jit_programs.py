"""Hand-written optimized IR the JIT tests compile (typed, guards removed)."""

SUM_LOOP_FRAME = """
func @sum_loop(n) locals(total, i, $cur0, $stop1) line 4 {
entry0:
  _ENTRY ^bb0, ^bb1
bb0:
  .line 5
  %0:int = _LOAD_CONST 0
  _STORE_FAST total %0
  .line 6
  %1:int = _LOAD_FAST n
  %2:int = _RANGE_ARG %1
  %3:int = _LOAD_CONST 0
  _STORE_FAST $cur0 %3
  _STORE_FAST $stop1 %2
  _JUMP ^bb1
bb1:
  .line 6
  %4:int = _LOAD_FAST $cur0
  %5:int = _LOAD_FAST $stop1
  %6:bool = _COMPARE_OP_INT < %4, %5
  _BRANCH %6, ^bb2, ^bb3
bb2:
  .line 6
  %7:int = _LOAD_FAST $cur0
  %8:int = _LOAD_CONST 1
  %9:int = _BINARY_OP_ADD_INT %7, %8 exit(bb2:2, %7, %8)
  _STORE_FAST $cur0 %9
  _STORE_FAST i %7
  .line 7
  %10:int = _LOAD_FAST total
  %11:int = _LOAD_FAST i
  %12:int = _BINARY_OP_ADD_INT %10, %11 exit(bb2:7, %10, %11)
  _STORE_FAST total %12
  _JUMP ^bb1
bb3:
  .line 8
  %13:int = _LOAD_FAST total
  _RETURN %13
}
"""

# After promote: locals live in block params; OSR entry loads them from the frame.
SUM_LOOP_PROMOTED = """
func @sum_loop(n) locals(total, i, $cur0, $stop1) line 4 {
entry0:
  _ENTRY ^bb0, ^osr1
bb0:
  .line 5
  %0:int = _LOAD_CONST 0
  %1:int = _LOAD_FAST n
  %2:int = _RANGE_ARG %1
  %3:int = _LOAD_CONST 0
  _JUMP ^bb1(%3, %2, %0)
osr1:
  %20:int = _LOAD_FAST $cur0
  %21:int = _LOAD_FAST $stop1
  %22:int = _LOAD_FAST total
  _JUMP ^bb1(%20, %21, %22)
bb1(%30:int, %31:int, %32:int):
  .line 6
  %6:bool = _COMPARE_OP_INT < %30, %31
  _BRANCH %6, ^bb2, ^bb3
bb2:
  %8:int = _LOAD_CONST 1
  %9:int = _BINARY_OP_ADD_INT %30, %8 exit(bb2:2, %7=%30, %8, total=%32, $cur0=%30, $stop1=%31)
  .line 7
  %12:int = _BINARY_OP_ADD_INT %32, %30 exit(bb2:7, %10=%32, %11=%30, total=%32, $cur0=%9, i=%30, $stop1=%31)
  _JUMP ^bb1(%9, %31, %12)
bb3:
  .line 8
  _RETURN %32
}
"""

FIB_MOD_PROMOTED = """
func @fib_mod(n) locals(a, b, _, $cur0, $stop1) line 6 {
entry0:
  _ENTRY ^bb0, ^osr1
bb0:
  .line 7
  %0:int = _LOAD_CONST 0
  %1:int = _LOAD_CONST 1
  %2:int = _LOAD_FAST n
  %3:int = _RANGE_ARG %2
  %4:int = _LOAD_CONST 0
  _JUMP ^bb1(%0, %1, %4, %3)
osr1:
  %40:int = _LOAD_FAST a
  %41:int = _LOAD_FAST b
  %42:int = _LOAD_FAST $cur0
  %43:int = _LOAD_FAST $stop1
  _JUMP ^bb1(%40, %41, %42, %43)
bb1(%50:int, %51:int, %52:int, %53:int):
  .line 8
  %7:bool = _COMPARE_OP_INT < %52, %53
  _BRANCH %7, ^bb2, ^bb3
bb2:
  %9:int = _LOAD_CONST 1
  %10:int = _BINARY_OP_ADD_INT %52, %9 exit(bb2:2, %8=%52, %9, a=%50, b=%51, $cur0=%52, $stop1=%53)
  .line 9
  %14:int = _BINARY_OP_ADD_INT %50, %51 exit(bb2:8, %11=%51, %12=%50, %13=%51, a=%50, b=%51, $cur0=%10, _=%52, $stop1=%53)
  %15:int = _LOAD_CONST 1000000007
  %16:int = _BINARY_OP_MODULO_INT %14, %15 exit(bb2:10, %11=%51, %14, %15, a=%50, b=%51, $cur0=%10, _=%52, $stop1=%53)
  _JUMP ^bb1(%51, %16, %10, %53)
bb3:
  .line 10
  _RETURN %50
}
"""
