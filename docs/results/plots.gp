set terminal pngcairo size 1100,720 noenhanced
set output 'accuracy_by_method.png'
set multiplot layout 2,1
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set yrange [0:1.05]
set ylabel 'score'
set key outside right
set grid ytics
set title 'model small: score by method (10 particles; 95% CI)'
plot 'by_method.dat' index 0 using 2:3:4:xtic(1) title 'spider', 'by_method.dat' index 0 using 5:6:7 title 'molecules', 'by_method.dat' index 0 using 8:9:10 title 'blocksworld', 'by_method.dat' index 0 using 11:12:13 title 'pydata'
set title 'model large: score by method (10 particles; 95% CI)'
plot 'by_method.dat' index 1 using 2:3:4:xtic(1) title 'spider', 'by_method.dat' index 1 using 5:6:7 title 'molecules', 'by_method.dat' index 1 using 8:9:10 title 'blocksworld', 'by_method.dat' index 1 using 11:12:13 title 'pydata'
unset multiplot
set terminal pngcairo size 900,560 noenhanced
set output 'accuracy_vs_particles.png'
set style data linespoints
set logscale x 2
set xlabel 'particles'
set ylabel 'score'
set yrange [0:1.05]
set title 'smc-full: score vs particles (95% CI)'
plot 'vs_particles.dat' index 0 using 1:2:3:4 with yerrorlines title 'small / spider', 'vs_particles.dat' index 1 using 1:2:3:4 with yerrorlines title 'small / molecules', 'vs_particles.dat' index 2 using 1:2:3:4 with yerrorlines title 'small / blocksworld', 'vs_particles.dat' index 3 using 1:2:3:4 with yerrorlines title 'small / pydata', 'vs_particles.dat' index 4 using 1:2:3:4 with yerrorlines title 'large / spider', 'vs_particles.dat' index 5 using 1:2:3:4 with yerrorlines title 'large / molecules', 'vs_particles.dat' index 6 using 1:2:3:4 with yerrorlines title 'large / blocksworld', 'vs_particles.dat' index 7 using 1:2:3:4 with yerrorlines title 'large / pydata'
