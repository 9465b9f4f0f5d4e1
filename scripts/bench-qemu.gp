# SPDX-License-Identifier: GPL-2.0
# PQ, real QEMU migrations: the destination's view (time until it runs, real
# downtime) next to QEMU's own figures, per row. Data: DIR/qemu.dat (written
# by bench-report.py, which runs this).
#   gnuplot -e "dir='build/bench'" scripts/bench-qemu.gp
if (!exists("dir")) dir = 'build/bench'
set terminal pngcairo size 1500,480 font "sans,10"
set output dir.'/qemu.png'
set multiplot layout 1,2 title "Real QEMU migrations (each client's path) against 4 bulk TCP flows: destination vs QEMU's own view"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -45 scale 0
set yrange [0:*]
set ylabel "seconds"
set title "migration time"
plot dir.'/qemu.dat' using 2:xtic(1) lc rgb "#d62728" title "destination runs after", \
     '' using 4 lc rgb "#1f77b4" title "QEMU's total time"
set title "downtime"
plot dir.'/qemu.dat' using 3:xtic(1) lc rgb "#d62728" title "real (source paused -> destination runs)", \
     '' using 5 lc rgb "#1f77b4" title "QEMU's downtime"
unset multiplot
