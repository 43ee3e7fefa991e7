"""The self-contained HTML report: page, parts, pictures and the step table.
"""
