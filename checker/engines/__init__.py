"""The engines: :mod:`.base` (protocol, request, result types), :mod:`.registry` (engines by
name), :mod:`.explicit` (state enumeration) and :mod:`.symbolic` (Z3).
"""
