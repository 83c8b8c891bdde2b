set terminal pngcairo size 1200,640 noenhanced font ',10'
set output 'ess_sweep.png'
set multiplot layout 2,3
set xrange [-0.05:1.05]
set yrange [0:1.05]
set xtics 0.1
set xlabel 'ESS threshold T (resample when ESS < T*N)'
set ylabel 'score (95% CI over instances)'
set grid
set key top right font ',8' opaque
set title 'spider / small'
plot 'ess_sweep.dat' index 0 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 1 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 2 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
set title 'molecules / small'
plot 'ess_sweep.dat' index 6 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 7 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 8 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
set title 'blocksworld / small'
plot 'ess_sweep.dat' index 12 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 13 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 14 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
set title 'spider / large'
plot 'ess_sweep.dat' index 3 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 4 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 5 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
set title 'molecules / large'
plot 'ess_sweep.dat' index 9 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 10 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 11 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
set title 'blocksworld / large'
plot 'ess_sweep.dat' index 15 using ($1+-0.012):2:3:4 with yerrorlines title 'smc/step', 'ess_sweep.dat' index 16 using ($1+0.0):2:3:4 with yerrorlines title 'smc-full/step', 'ess_sweep.dat' index 17 using ($1+0.012):2:3:4 with yerrorlines title 'smc-full/critic'
unset multiplot
set terminal pngcairo size 1200,640 noenhanced font ',10'
set output 'ess_sweep_dead.png'
set multiplot layout 2,3
set xrange [-0.05:1.05]
set yrange [0:1.05]
set xtics 0.1
set xlabel 'ESS threshold T (resample when ESS < T*N)'
set ylabel 'fraction of runs all dead'
set grid
set key top right font ',8' opaque
set title 'spider / small'
plot 'ess_sweep.dat' index 0 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 1 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 2 using ($1+0.012):5 with linespoints title 'smc-full/critic'
set title 'molecules / small'
plot 'ess_sweep.dat' index 6 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 7 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 8 using ($1+0.012):5 with linespoints title 'smc-full/critic'
set title 'blocksworld / small'
plot 'ess_sweep.dat' index 12 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 13 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 14 using ($1+0.012):5 with linespoints title 'smc-full/critic'
set title 'spider / large'
plot 'ess_sweep.dat' index 3 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 4 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 5 using ($1+0.012):5 with linespoints title 'smc-full/critic'
set title 'molecules / large'
plot 'ess_sweep.dat' index 9 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 10 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 11 using ($1+0.012):5 with linespoints title 'smc-full/critic'
set title 'blocksworld / large'
plot 'ess_sweep.dat' index 15 using ($1+-0.012):5 with linespoints title 'smc/step', 'ess_sweep.dat' index 16 using ($1+0.0):5 with linespoints title 'smc-full/step', 'ess_sweep.dat' index 17 using ($1+0.012):5 with linespoints title 'smc-full/critic'
unset multiplot
