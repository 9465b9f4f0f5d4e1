# SPDX-License-Identifier: GPL-2.0
# Throughput over time during P1 (4 bulk flows + a migration), without
# migprio (b) and with it (c), side by side.
#   gnuplot -e "dir='build/bench'; link=200" scripts/bench-plot.gp
if (!exists("dir")) dir = 'build/bench'
if (!exists("link")) link = 200
set terminal pngcairo size 1200,460 font "sans,10"
set output dir.'/throughput.png'
set multiplot layout 1,2 title sprintf("Migration vs 4 bulk TCP flows on a %g Mbit/s link (time 0 = migration starts)", link)
# the same time axis on both sides: the longer run (usually b) sets it
stats dir.'/tl-b-mig.dat' using 1 nooutput name "B"
stats dir.'/tl-c-mig.dat' using 1 nooutput name "C"
xmax = (B_max > C_max ? B_max : C_max) + 2
set xrange [-3:xmax]
set xlabel "time (s)"
set ylabel "throughput (Mbit/s)"
set yrange [0:link * 1.15]
set grid
set key top right
set style line 1 lc rgb "#d62728" lw 2
set style line 2 lc rgb "#1f77b4" lw 2
set title "without migprio (one shaped class, fq\\_codel)"
plot dir.'/tl-b-mig.dat' using 1:2 with lines ls 1 title "migration (2 channels)", \
     dir.'/tl-b-bulk.dat' using 1:2 with lines ls 2 title "bulk (4 flows, sum)"
set title "with migprio (queue htb guard 0, preset qemu)"
plot dir.'/tl-c-mig.dat' using 1:2 with lines ls 1 title "migration (2 channels)", \
     dir.'/tl-c-bulk.dat' using 1:2 with lines ls 2 title "bulk (4 flows, sum)"
unset multiplot
